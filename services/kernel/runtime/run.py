"""Run one nameko service: `python -m services.kernel.runtime.run services.identity.service`.

Patches eventlet first (as `nameko run` does), configures JSON logs, builds nameko's config from
ECOACH_* settings, and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import warnings

# eventlet warns on import that it is in bugfix-only mode: known, recorded in the architecture.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from nameko.cli.run import import_service, run  # noqa: E402

from ..config import Settings, settings  # noqa: E402
from ..logs import configure  # noqa: E402
from ..metrics import serve_metrics  # noqa: E402
from ..tracing import configure_tracing  # noqa: E402


def nameko_config(config: Settings, service: str | None = None) -> dict[str, Any]:
    """nameko's config; with `service`, its broker URI is that service's own user's."""
    return {
        "AMQP_URI": config.broker_uri(service) if service else config.amqp_uri,
        "max_workers": config.service_workers,
        "parent_calls_tracked": 10,
        "serializer": "json",
        # A connection error in a worker is retried by kombu; a dropped broker reconnects.
        "HEARTBEAT": 30,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m services.kernel.runtime.run <module>", file=sys.stderr)
        return 2
    services = import_service(argv[0])
    config = settings()
    configure(services[0].name, config.log_level)
    serve_metrics(config.metrics_port, config.metrics_host, services[0].name)
    configure_tracing(services[0].name)
    signal.signal(signal.SIGINT, signal.getsignal(signal.SIGTERM))
    run(services, nameko_config(config, services[0].name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
