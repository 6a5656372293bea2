"""The platform's services, listed once (docs/adding-a-service.md).

Everything that names every service is derived from `SERVICES`, or checked against it by
`tests/unit/test_registry.py` where it cannot be derived:

- set-up and `make run` (`ecoach_dev/cli.py`: databases, migrations, event queues, service keys,
  broker users; `ecoach_dev/processes.py`: the processes started, and the `Procfile`, checked);
- the test deployments (`ecoach_dev/deployment.py`) and the tests' databases;
- the gateway's health, which reports each service by name (`gateway/api/server.py`);
- the personal-data registry (`personal_data.PERSONAL_DATA_SERVICES`);
- the master key's re-wrap steps (`python -m ecoach_dev.cli rewrap`);
- the isolation suite's list of RPC methods (`tests/support/isolation.py`);
- the services the README names;
- the processes of `deploy/` (the image's entrypoint runs `ecoach_dev/processes.py`'s; Compose
  and the Kubernetes manifests are checked by `tests/unit/test_deploy_compose.py`, `_k8s.py`).

Core (no nameko, no SQLAlchemy): the gateway imports it. A service is named here by strings only,
since the kernel imports no service.
"""

from __future__ import annotations

from dataclasses import dataclass

# The kernel's own re-wrap step, for a service whose free text is sealed with tenant keys from
# the kernel's key ring (`services/kernel/runtime/keyring.py`).
KEY_RING_REWRAP = "services.kernel.runtime.keyring:rewrap_master_key"


@dataclass(frozen=True)
class Service:
    """One nameko service: `services/<name>/`, with its own database and broker user.

    `personal_data`: it keeps something about people, so it implements the personal-data
    contract (`export_personal_data`, erasure on `identity.person_erased`;
    docs/personal-data.md). `rewrap`: `module:function` that wraps its sealed values again
    after a master-key rotation (`function(connection, master) -> changed`), or None when it
    seals nothing."""

    name: str
    personal_data: bool
    rewrap: str | None = None

    @property
    def module(self) -> str:
        """The module holding the nameko service class (`name = "<name>"`)."""
        return f"services.{self.name}.service"


# Every service, in dependency order: migrated, started and streamed (personal-data exports) in
# this order. A new service adds itself here, and only here.
SERVICES: tuple[Service, ...] = (
    Service(
        "identity", personal_data=True, rewrap="services.identity.storage.rewrap:rewrap_master_key"
    ),
    Service("spaces", personal_data=True, rewrap=KEY_RING_REWRAP),
    Service("scheduling", personal_data=True, rewrap=KEY_RING_REWRAP),
    Service("assessment", personal_data=True, rewrap=KEY_RING_REWRAP),
    Service(
        "content", personal_data=True, rewrap="services.content.storage.xapi:rewrap_master_key"
    ),
    Service("reporting", personal_data=True, rewrap=KEY_RING_REWRAP),
)

SERVICE_NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)


def service(name: str) -> Service:
    """The registered service called `name`."""
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise LookupError(f"no service {name!r} in services/kernel/registry.py")
