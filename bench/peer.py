"""The peer `bench.getmember` measures the gateway against: one FastAPI process, no broker.

`GET /v1/tenants/{tenant}/members/{member}` with `Authorization: Bearer <access token>` answers
the member as identity's `get_member` does, because it *is* identity's code: the token is checked
by the kernel's `TokenVerifier` (signature, key id, issuer, audience, type, expiry, revocation,
with the same verified-token cache), fed with identity's public keys and recent revocations read
from identity's own database as identity itself reads them (`service._own_signing_keys`), and the
read is `handlers.members.get_member` on identity's unit of work, answered as the contract's JSON.
What it leaves out is what makes the platform a platform: RabbitMQ, nameko's workers, the
revocation broadcast (it loads the revocations once, at start), the gRPC gateway in front.

The endpoint is a plain `def`, as FastAPI's documentation advises for blocking database code:
Starlette runs it in its thread pool, so 16 clients' database waits overlap. uvicorn is the
plain one (asyncio and h11, no uvloop or httptools), one process, access log off (identity and
the gateway log one line per call; the peer's cost stays below that).

Started by `bench.getmember` in the deployment's environment: `python -m bench.peer --port N`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, Response
from fastapi.responses import JSONResponse

from services.contracts import identity as c
from services.identity.handlers import for_services, members, signing_keys
from services.identity.storage.unit import Db, IdentityUnit
from services.kernel.caller import Caller
from services.kernel.clock import Clock, clock_for
from services.kernel.config import settings
from services.kernel.errors import DomainError
from services.kernel.revocations import Revocation, RevocationList
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.kernel.tokens import LEEWAY, FetchedKeys, TokenVerifier

SERVICE = "identity"
POOL = 20  # Starlette's thread pool is 40 threads; 16 clients use at most 16 connections
STATUS = {"NOT_FOUND": 404, "PERMISSION_DENIED": 403, "UNAUTHENTICATED": 401}


def build_app() -> FastAPI:
    config = settings()
    clock: Clock = clock_for(config.env, config.test_clock_path)
    engine = make_engine(config.database_url_for(SERVICE), pool_size=POOL)

    def database() -> Db:
        return WorkerDatabase(engine, clock, unit=IdentityUnit)

    def using_db(work: Callable[[Db], Any]) -> Any:
        db = database()
        try:
            return work(db)
        finally:
            db.close()

    revocations = RevocationList(clock, timedelta(seconds=config.access_token_ttl_seconds) + LEEWAY)
    since: datetime = clock.now() - timedelta(seconds=config.access_token_ttl_seconds) - LEEWAY
    answer = using_db(
        lambda db: for_services.list_access_revocations(
            db, c.ListAccessRevocationsRequest(since=since)
        )
    )
    revocations.add(Revocation.of(r.model_dump()) for r in answer.revocations)
    keys = FetchedKeys(
        lambda: using_db(signing_keys.public_jwks),
        time.monotonic,
        min_interval=1.0,
        max_age=config.signing_keys_refresh_seconds,
        clock=clock,
    )
    verifier = TokenVerifier(keys, clock, revocations=revocations)
    issuer, audience = config.token_issuer, config.token_audience

    def caller_of(authorization: str) -> Caller:
        token = authorization.removeprefix("Bearer ").strip()
        known = verifier.cached_person(token, issuer=issuer, audience=audience)
        if known is not None:
            return known
        return verifier.verify_person(token, issuer=issuer, audience=audience)

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/v1/tenants/{tenant_id}/members/{member_id}")
    def get_member(tenant_id: str, member_id: str, authorization: str = Header("")) -> Response:
        try:
            caller = caller_of(authorization)
            request = c.MemberRef(tenant_id=tenant_id, member_id=member_id)
            member = using_db(lambda db: members.get_member(db, caller, request))
        except DomainError as exc:
            return JSONResponse({"code": str(exc.code)}, status_code=STATUS.get(str(exc.code), 400))
        return JSONResponse(member.model_dump(mode="json"))

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(), host="127.0.0.1", port=args.port, access_log=False, log_level="warning"
    )


if __name__ == "__main__":
    main()
