"""deploy/compose.yaml, read as YAML and checked against the service registry: every process of
the registry is there, after the one-shot migration, with a health check, its own keys and no
secret in its environment; and against the Compose Specification (the dev extra's compose-spec,
bindings of the compose_spec crate: unknown keys, wrong types and values refused), since
`docker compose config` cannot run here: CI has no Docker."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecoach_dev import processes
from ecoach_dev.cli import BROKER_CLIENTS, KEY_OWNERS, TOOL_KEY_OWNERS
from services.kernel.registry import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
KEYS = "/run/secrets/ecoach"


# Compose's interpolation, as `docker compose config` does it with none of them set.
VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def specification_errors(text: str) -> str | None:
    """What the Compose Specification refuses in `text` (None: valid). YAML merge keys are
    resolved first (PyYAML), and `${VAR:-default}` becomes its default."""
    compose_spec = pytest.importorskip(
        "compose_spec", reason="compose-spec is not installed (the dev extra: make test has it)"
    )
    document = yaml.safe_load(VARIABLE.sub(lambda m: m.group(2) or "", text))
    try:
        compose_spec.PyCompose.from_json(json.dumps(document))
    except ValueError as exc:
        return str(exc)
    return None


def test_the_compose_file_follows_the_compose_specification() -> None:
    text = COMPOSE.read_text()
    assert specification_errors(text) is None
    # and the check can fail: a misspelt key, a wrong value, an unknown condition
    assert "cap_dropp" in str(specification_errors(text.replace("cap_drop:", "cap_dropp:")))
    assert "thirty" in str(
        specification_errors(text.replace("stop_grace_period: 30s", "stop_grace_period: thirty"))
    )
    wrong = text.replace("service_completed_successfully", "service_done")
    assert "service_done" in str(specification_errors(wrong))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def mounted(service: dict[str, Any]) -> dict[str, str]:
    """target path -> secret name, for each secret a container mounts."""
    found = {}
    for entry in service.get("secrets", []):
        if isinstance(entry, str):
            found[f"/run/secrets/{entry}"] = entry
        else:
            found[entry.get("target") or f"/run/secrets/{entry['source']}"] = entry["source"]
    return found


def needs(compose: dict[str, Any], name: str, other: str, condition: str) -> bool:
    """Whether `name` waits (itself or through what it waits for) for `other` under `condition`."""
    for dependency, how in compose["services"][name].get("depends_on", {}).items():
        if dependency == other and how["condition"] == condition:
            return True
        if needs(compose, dependency, other, condition):
            return True
    return False


def test_every_process_runs_from_the_image_with_its_own_command(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "rabbitmq", "migrate", *processes.names()}
    for name in processes.names():
        assert services[name]["command"] == [name]
        assert services[name]["image"] == services["migrate"]["image"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"


def test_the_migration_runs_once_the_stores_are_healthy_and_every_process_after_it(
    compose: dict[str, Any],
) -> None:
    for store in ("postgres", "rabbitmq"):
        assert needs(compose, "migrate", store, "service_healthy")
    for name in processes.names():
        assert needs(compose, name, "migrate", "service_completed_successfully"), name


def test_every_container_has_a_health_check_and_services_are_probed_over_the_broker(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("postgres", "rabbitmq", *processes.names()):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    for name in SERVICE_NAMES:
        probe = services[name]["healthcheck"]["test"]
        assert probe[1:4] == ["/app/deploy/entrypoint.sh", "probe", name]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "HealthStub" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_each_process_holds_its_own_private_key_and_broker_user_and_every_public_key(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    public = {f"{KEYS}/{owner}.pub" for owner in (*KEY_OWNERS, *TOOL_KEY_OWNERS)}
    for name in KEY_OWNERS:
        keys = {path for path in mounted(services[name]) if path.startswith(KEYS + "/")}
        own = {f"{KEYS}/{name}.key", f"{KEYS}/{name}.amqp"}
        if name in SERVICE_NAMES:
            own.add(f"{KEYS}/{name}.database")
        assert keys == {*own, *public}, name
        for path, secret in mounted(services[name]).items():
            if path.startswith(KEYS + "/"):
                assert secret == Path(path).name.replace(".", "_"), path
    assert not any(path.startswith(KEYS) for path in mounted(services["web"]))
    # the migration sets every broker client's and every service's database user's password,
    # and reads no private key
    migrate = mounted(services["migrate"])
    assert {p for p in migrate if p.startswith(KEYS)} == {
        *(f"{KEYS}/{process}.amqp" for process in (*SERVICE_NAMES, *BROKER_CLIENTS)),
        *(f"{KEYS}/{service}.database" for service in SERVICE_NAMES),
    }


def test_only_the_migration_sees_the_owners_database_url_and_services_log_in_as_their_own(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in processes.names():
        assert "database_url" not in mounted(services[name]).values(), name
    migrate = services["migrate"]["environment"]
    assert migrate["ECOACH_DATABASE_URL_FILE"] == "/run/secrets/database_url"
    assert migrate["ECOACH_DATABASE_USERS"] == "true"
    for name in SERVICE_NAMES:
        env = services[name]["environment"]
        assert env["ECOACH_DATABASE_USERS"] == "true", name
        assert "@" not in env["ECOACH_DATABASE_URL"], name  # the server only, no user
    for name in ("gateway", "web"):
        assert not any("DATABASE" in key for key in services[name]["environment"]), name


def test_secrets_come_from_files_never_from_the_environment(compose: dict[str, Any]) -> None:
    declared = compose["secrets"]
    for name, secret in declared.items():
        assert secret["file"].startswith("./secrets/"), name
    used = {s for svc in compose["services"].values() for s in mounted(svc).values()}
    assert used == set(declared)
    credentials = re.compile(r"://[^/@\s]*:[^/@\s]*@")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            assert not credentials.search(str(value)), f"{name}: {key} holds a password"
            assert "PASSWORD" not in key or key.endswith("_FILE"), f"{name}: {key}"
            if key.endswith("_FILE"):
                assert value in mounted(service), f"{name}: {key} names no mounted secret"


def test_processes_run_read_only_without_capabilities_and_drain_on_sigterm(
    compose: dict[str, Any],
) -> None:
    for name in ("migrate", *processes.names()):
        service = compose["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["stop_signal"] == "SIGTERM"
        assert service["stop_grace_period"] == "30s"


def test_the_secrets_folder_is_never_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/secrets/master.key"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "add deploy/secrets/ to .gitignore"


def test_deploy_secrets_makes_every_key_file_compose_mounts_and_never_replaces_one(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    from ecoach_dev.cli import deploy_secrets

    folder = tmp_path / "secrets"
    created = deploy_secrets(folder)
    made = {"./secrets/" + str(p.relative_to(folder)) for p in created}
    wanted = {s["file"] for s in compose["secrets"].values()}
    by_hand = {
        "./secrets/postgres_password",
        "./secrets/database_url",
        "./secrets/rabbitmq_admin.conf",
        "./secrets/amqp_admin_uri",
    }
    # The operator's tool's private key stays with the operator: no container mounts it.
    kept = {f"./secrets/keys/{owner}.key" for owner in TOOL_KEY_OWNERS}
    assert made - kept == wanted - by_hand
    assert kept <= made
    assert all(p.stat().st_mode & 0o077 == 0 for p in created if p.suffix != ".pub")
    before = {p: p.read_bytes() for p in created}
    assert deploy_secrets(folder) == []
    assert {p: p.read_bytes() for p in created} == before


def test_every_process_serves_metrics_on_its_own_container(compose: dict[str, Any]) -> None:
    for name in processes.names():
        environment = compose["services"][name]["environment"]
        assert environment["ECOACH_METRICS_PORT"] == "${ECOACH_METRICS_PORT:-9100}", name
        assert environment["ECOACH_METRICS_HOST"] == "0.0.0.0", name
