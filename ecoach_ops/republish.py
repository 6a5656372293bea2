"""Asking a service to republish the current state of its aggregates (ADR 0022).

The service's `republish_state` RPC method accepts only a service token of the operator's tool
(`ops`), signed with `<keys>/ops.key`, whose public half every service reads from the key folder
when it starts. The gateway maps its methods one by one and has none for it, so no client of the
gateway reaches it: calling it takes the operator's key and a broker user allowed to publish RPC
requests. Reporting's `reset_facts` (the first step of `ecoach-ops rebuild-reporting`) is
guarded the same way.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from gateway.api.rpc_client import RpcClient
from services.contracts.base import (
    OPERATOR_TOOL,
    Contract,
    Method,
    RepublishReport,
    RepublishRequest,
    api_of,
)
from services.contracts.reporting import ReportingApi, ResetFactsReport, ResetFactsRequest
from services.kernel import context
from services.kernel.clock import Clock
from services.kernel.errors import DomainError
from services.kernel.registry import SERVICE_NAMES
from services.kernel.runtime.broker_admin import redacted
from services.kernel.tokens import SigningKey, b64url_decode, issue_service_token

R = TypeVar("R", bound=Contract)
T = TypeVar("T", bound=Contract)

# The token only has to be valid when the service takes the request.
TOKEN_TTL = timedelta(minutes=5)


class RepublishError(Exception):
    """The request could not be made or was refused; the message says why."""


def operator_key(keys_dir: Path) -> SigningKey:
    path = keys_dir / f"{OPERATOR_TOOL}.key"
    if not path.exists():
        raise RepublishError(
            f"no operator key at {path}: the set-up (`python -m ecoach_dev.cli setup`, or the "
            "deployment's secrets) creates it, and the services must be started after it exists"
        )
    return SigningKey.from_private_bytes(b64url_decode(path.read_text().strip()))


def republish(
    amqp_uri: str,
    keys_dir: Path,
    clock: Clock,
    service: str,
    tenant_id: str | None,
    *,
    timeout: float,
) -> RepublishReport:
    """What `service` recorded, once it has recorded every snapshot."""
    if service not in SERVICE_NAMES:
        raise RepublishError(f"no service {service!r}; the services are {', '.join(SERVICE_NAMES)}")
    request = _tenant_request(RepublishRequest, tenant_id)
    return _call(amqp_uri, keys_dir, clock, api_of(service).republish_state, request, timeout)


def reset_reporting(
    amqp_uri: str, keys_dir: Path, clock: Clock, tenant_id: str | None, *, timeout: float
) -> ResetFactsReport:
    """Reporting's fact tables emptied (of one tenant, or all): the first step of a rebuild."""
    request = _tenant_request(ResetFactsRequest, tenant_id)
    return _call(amqp_uri, keys_dir, clock, ReportingApi.reset_facts, request, timeout)


def _tenant_request(contract: type[R], tenant_id: str | None) -> R:
    try:
        return contract.from_request({"tenant_id": tenant_id})
    except ValueError:
        raise RepublishError(f"{tenant_id!r} is not a tenant id (ten_ and hex digits)") from None


def _call(
    amqp_uri: str,
    keys_dir: Path,
    clock: Clock,
    method: Method[R, T],
    request: R,
    timeout: float,
) -> T:
    """`method` called with a service token of the operator's tool, signed by its key."""
    token = issue_service_token(
        operator_key(keys_dir),
        service=OPERATOR_TOOL,
        audience=method.service,
        clock=clock,
        ttl=TOKEN_TTL,
    )
    calling = {
        context.AUTHORIZATION: token,
        context.REQUEST_ID: context.new_request_id(),
        context.DEADLINE: time.time() + timeout,
    }
    try:
        with RpcClient(amqp_uri, name="ecoach-ops") as rpc:
            return rpc.call_method(method, request, timeout=timeout, context=calling)
    except DomainError as exc:
        raise RepublishError(
            f"{method.service} did not do {method.name} ({type(exc).__name__}: {exc}); "
            f"broker {redacted(amqp_uri)}"
        ) from exc
