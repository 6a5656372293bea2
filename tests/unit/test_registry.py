"""The service registry (services/kernel/registry.py) and what is derived from it or must agree
with it: a service added in one place is run, migrated, health-checked, exported, erased and
re-wrapped everywhere, and a list kept by hand (the Procfile, the README) cannot drift."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from ecoach_dev import processes
from ecoach_dev.cli import rewrap_steps, spec
from ecoach_dev.deployment import Deployment
from ecoach_dev.run import processes as started_by_make_run
from services.contracts.identity import PersonErased
from services.kernel.events import source_of
from services.kernel.personal_data import EXPORT_METHOD, PERSONAL_DATA_SERVICES
from services.kernel.registry import SERVICE_NAMES, SERVICES, Service, service
from services.kernel.runtime.topology import subscriptions_of
from tests.support.isolation import rpc_methods

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported only

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"kernel", "contracts"}


def procfile() -> dict[str, str]:
    entries = [
        line.split(":", 1)
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return {name.strip(): command.strip() for name, command in entries}


def test_every_service_package_is_registered_and_every_registered_service_exists() -> None:
    packages = {
        path.parent.name
        for path in (ROOT / "services").glob("*/service.py")
        if path.parent.name not in SHARED
    }
    assert set(SERVICE_NAMES) == packages, "add the service to services/kernel/registry.py"
    assert len(SERVICE_NAMES) == len(set(SERVICE_NAMES))


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_registered_service_has_its_class_migrations_and_contract(name: str) -> None:
    found = spec(name)
    assert found.service_class().name == name  # type: ignore[attr-defined]
    assert (found.migrations / "env.py").is_file(), f"{name} has no Alembic migrations"
    contract = ROOT / "services" / "contracts" / f"{name}.py"
    assert re.search(rf'^SERVICE = "{name}"$', contract.read_text(), re.M), contract


def test_an_unregistered_name_is_refused() -> None:
    with pytest.raises(LookupError):
        service("billing")
    with pytest.raises(LookupError):
        processes.command("billing")


def test_the_procfile_runs_each_registered_service_then_the_doors_and_make_run_starts_all() -> None:
    declared = procfile()
    assert list(declared) == [processes.DATABASE, *processes.procfile_entries()]
    for name, command in processes.procfile_entries().items():
        assert declared[name] == command, f"the Procfile runs {name} otherwise"
    started = started_by_make_run()
    assert started[-len(processes.names()) :] == processes.names()
    assert set(started) <= set(declared)


def test_a_test_deployment_runs_each_registered_service_and_the_doors(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none")
    assert list(deployment.commands) == processes.names()
    assert [s.name for s in deployment.services] == list(SERVICE_NAMES)
    for name, command in deployment.commands.items():
        assert command[1:] == processes.arguments(name)


def test_the_gateway_reports_the_health_of_every_registered_service() -> None:
    from gateway.api.server import DOWNSTREAM

    assert tuple(DOWNSTREAM) == SERVICE_NAMES


def test_the_personal_data_registry_follows_the_service_registry() -> None:
    assert PERSONAL_DATA_SERVICES == tuple(s.name for s in SERVICES if s.personal_data)


@pytest.mark.parametrize("registered", SERVICES, ids=SERVICE_NAMES)
def test_a_service_that_keeps_personal_data_exports_it_and_erases_it(registered: Service) -> None:
    """The contract of docs/personal-data.md: an export method, and (but for identity, which
    asks) a handler of `identity.person_erased`; a service that says it keeps nothing, neither."""
    exports = f"{registered.name}.{EXPORT_METHOD}" in rpc_methods()
    handled = {s.event_type for s in subscriptions_of(spec(registered.name).service_class())}
    erases = PersonErased.TYPE in handled or registered.name == source_of(PersonErased.TYPE)
    assert (exports, erases) == (registered.personal_data, registered.personal_data)


def test_every_re_wrap_step_is_a_function_of_a_connection_and_the_master_key() -> None:
    steps = rewrap_steps()
    assert list(steps) == [s.name for s in SERVICES if s.rewrap is not None]
    for name, step in steps.items():
        assert list(inspect.signature(step).parameters) == ["connection", "master"], name


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_service_whose_migrations_use_the_key_ring_has_a_re_wrap_step(name: str) -> None:
    migrations = (ROOT / "services" / name / "migrations").rglob("*.py")
    if any("keyring" in path.read_text() for path in migrations):
        assert service(name).rewrap is not None, f"{name} seals with the key ring"


def test_the_readme_names_every_registered_service_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text()
    services_bullet = readme.split("- **Services** (`services/<name>/`)", 1)[1].split("\n- ")[0]
    today = services_bullet.split("Today:", 1)[1].split("`domain/`")[0]
    assert tuple(re.findall(r"`(\w+)` \(", today)) == SERVICE_NAMES
    health = readme.split("for each downstream service by name (", 1)[1].split(")", 1)[0]
    assert tuple(re.findall(r"`(\w+)`", health)) == SERVICE_NAMES
