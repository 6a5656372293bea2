"""The web gateway process: `python -m gateway.web.server` (waitress, a plain threaded server).

Listens on ECOACH_WEB_ADDRESS and calls the gRPC gateway at ECOACH_GATEWAY_ADDRESS. Put it
behind the TLS-terminating proxy that serves ECOACH_PUBLIC_URL. Its session cookies are sealed
with ECOACH_WEB_SESSION_KEY (else the key file set-up creates), and Secure outside development.
"""

from __future__ import annotations

import logging

from waitress import serve

from gateway.api.peers import parse_proxies
from services.kernel.config import settings
from services.kernel.logs import configure

from .app import create_app
from .session import load_session_key

log = logging.getLogger("gateway.web")


def main() -> int:
    config = settings()
    configure("web", config.log_level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = create_app(
        config.gateway_address,
        load_session_key(config.web_session_key, config.web_session_key_path),
        secure_cookie=config.env != "development",
        feed_per_hour=config.feed_requests_per_hour,
        feed_per_address_hour=config.feed_requests_per_address_hour,
        trusted_proxies=parse_proxies(config.trusted_proxies),
    )
    log.info("web gateway listening on %s", config.web_address)
    # The app decides which X-Forwarded-For to believe (ECOACH_TRUSTED_PROXIES); waitress 3
    # would otherwise drop the header from every peer before the app sees it.
    serve(
        app,
        listen=config.web_address,
        threads=8,
        ident="ecoach",
        clear_untrusted_proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
