"""The isolation suite's lists stay honest, across every service's module.

Gathers CASES and EXEMPT from every test_isolation_*.py module of this folder, one per service's
.proto file, and checks that every `ecoach.v1` method (read from the generated descriptors) and
every public RPC method (walked from the kernel's registry) is covered somewhere, that each row
sits in the module of the service that declares its method, and that no row expects success.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.auth import PUBLIC_GRPC_METHODS
from services.kernel.public_methods import PUBLIC_METHODS
from tests.e2e.isolation.conftest import (
    REFUSALS,
    UNAUTHENTICATED,
    Case,
)
from tests.support.isolation import PACKAGE, ecoach_v1_methods, public_rpc_methods

HERE = Path(__file__).resolve().parent


def table_modules() -> dict[str, ModuleType]:
    """Every other test_isolation_*.py module of this folder (they hold CASES and EXEMPT), by
    its file name."""
    tables = {}
    for path in sorted(HERE.glob("test_isolation_*.py")):
        if path.name == Path(__file__).name:
            continue
        module = importlib.import_module(f"tests.e2e.isolation.{path.stem}")
        tables[path.name] = module
    return tables


TABLES = table_modules()
CASES: list[Case] = [c for module in TABLES.values() for c in module.CASES]
EXEMPT: dict[str, str] = {m: r for module in TABLES.values() for m, r in module.EXEMPT.items()}


def test_every_service_has_its_module_of_rows() -> None:
    """One module per .proto file of ecoach.v1 (a new service adds test_isolation_<name>.py)."""
    protos = {Path(m.containing_service.file.name).stem for m in ecoach_v1_methods().values()}
    expected = {f"test_isolation_{name}.py" for name in protos}
    assert set(TABLES) == expected, f"modules of rows {sorted(TABLES)}, services {sorted(protos)}"
    exempt_twice = sum(len(m.EXEMPT) for m in TABLES.values()) - len(EXEMPT)
    assert not exempt_twice, "a method is exempt in two modules"


def test_each_row_and_exemption_sits_in_the_module_of_its_service() -> None:
    methods = ecoach_v1_methods()
    misplaced = []
    for name, module in TABLES.items():
        service = name.removeprefix("test_isolation_").removesuffix(".py")
        for method in [c.method for c in module.CASES] + list(module.EXEMPT):
            if method in methods:
                proto = methods[method].containing_service.file.name
                if proto != f"{PACKAGE.replace('.', '/')}/{service}.proto":
                    misplaced.append(f"{method} ({proto}) in {name}")
    assert not misplaced, f"move these to their service's module: {misplaced}"


def test_every_ecoach_v1_method_has_cases_or_an_exemption() -> None:
    covered = {c.method for c in CASES} | set(EXEMPT)
    missing = sorted(set(ecoach_v1_methods()) - covered)
    assert not missing, f"add isolation cases (or an exemption with a reason) for {missing}"


def test_cases_and_exemptions_name_only_existing_methods() -> None:
    known = set(ecoach_v1_methods())
    stale = sorted(({c.method for c in CASES} | set(EXEMPT)) - known)
    assert not stale, f"no such ecoach.v1 method: {stale}"


def test_a_method_with_cases_is_not_also_exempt() -> None:
    both = sorted({c.method for c in CASES} & set(EXEMPT))
    assert not both, f"both tested and exempt: {both}"


def test_every_exemption_gives_a_reason() -> None:
    assert all(reason.strip() for reason in EXEMPT.values())


def test_no_case_expects_success_or_anything_but_a_rule_6_refusal() -> None:
    # Or, for a caller whose access was withdrawn (deactivated), the revocation's refusal.
    withdrawn = {(UNAUTHENTICATED, "TOKEN_REVOKED"), (UNAUTHENTICATED, "SESSION_ENDED")}
    wrong = [
        f"{c.id} expects {c.code.name}"
        for c in CASES
        if c.code not in REFUSALS and (c.code, c.reason) not in withdrawn
    ]
    assert not wrong, f"a case expects NOT_FOUND or PERMISSION_DENIED, never success: {wrong}"


def test_cases_have_unique_ids_and_an_error_reason() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert all(c.reason for c in CASES)


@pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported, not patched
def test_every_public_rpc_method_is_in_the_kernel_registry_and_back() -> None:
    declared = public_rpc_methods()
    unregistered = sorted(declared - set(PUBLIC_METHODS))
    assert not unregistered, f"declared public but missing from PUBLIC_METHODS: {unregistered}"
    phantom = sorted(set(PUBLIC_METHODS) - declared)
    assert not phantom, f"in PUBLIC_METHODS but not a public RPC method: {phantom}"
    assert all(reason.strip() for reason in PUBLIC_METHODS.values())


def test_every_public_grpc_method_of_ecoach_v1_is_exempt_with_a_reason_or_has_cases() -> None:
    # A public method that names another tenant's ids (SwitchTenant) has cases instead.
    public = {m.removeprefix("/") for m in PUBLIC_GRPC_METHODS if m.startswith(f"/{PACKAGE}.")}
    assert public <= set(ecoach_v1_methods()), sorted(public - set(ecoach_v1_methods()))
    missing = sorted(public - set(EXEMPT) - {c.method for c in CASES})
    assert not missing, f"public gRPC methods need cases or an exemption with a reason: {missing}"


def test_the_gateway_serves_no_ecoach_v1_method_the_suite_does_not_know(
    deployment: Deployment,
) -> None:
    from grpc_requests import Client

    client = Client.get_by_endpoint(deployment.address)
    served = {
        f"{name}/{method.name}"
        for name in client.service_names
        if name.startswith(f"{PACKAGE}.")
        for method in client.get_service_descriptor(name).methods
    }
    assert served, "reflection lists no ecoach.v1 service"
    assert served <= set(ecoach_v1_methods()), sorted(served - set(ecoach_v1_methods()))
