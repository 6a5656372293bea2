"""Building blocks of the isolation suite (tests/e2e/isolation/).

- what the platform exposes: every `ecoach.v1` gRPC method (from the generated descriptors) and
  every nameko RPC method declared public (from the service classes);
- calling any gRPC method by its full name and hearing only its status;
- read-backs: a victim's state as plain dicts, snapshotted before an attack and compared after.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor, message_factory, text_format
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from gateway.api import pb as generated
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from services.kernel.registry import SERVICES
from tests.support.api import Api, Session, error_details

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "ecoach.v1"

# ---------------------------------------------------------------- what the platform exposes


@functools.cache
def ecoach_v1_methods() -> dict[str, descriptor.MethodDescriptor]:
    """Every method of every service in package ecoach.v1, keyed `ecoach.v1.Service/Method`.

    Reads every generated `*_pb2` module, so a new .proto file is covered without editing this.
    """
    methods: dict[str, descriptor.MethodDescriptor] = {}
    folder = generated.GENERATED / Path(*PACKAGE.split("."))
    for path in sorted(folder.glob("*_pb2.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                methods[f"{service.full_name}/{method.name}"] = method
    return methods


@functools.cache
def rpc_methods() -> dict[str, tuple[Any, Any]]:
    """`service.method` of every nameko entrypoint declared with the kernel's `@rpc`, with its
    `RpcMeta` and the undecorated method.

    Imports each service of the kernel's registry (nameko and eventlet are imported, not
    patched); tests/unit/test_registry.py checks that every `services/<name>/service.py` is in it.
    """
    found: dict[str, tuple[Any, Any]] = {}
    for service in SERVICES:
        module = importlib.import_module(service.module)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            service_name = getattr(cls, "name", None)
            if not isinstance(service_name, str):
                continue
            for attr, value in vars(cls).items():
                meta = getattr(value, "__ecoach_rpc__", None)
                if meta is not None:
                    found[f"{service_name}.{attr}"] = (meta, inspect.unwrap(value))
    return found


def public_rpc_methods() -> set[str]:
    """`service.method` of every nameko entrypoint declared `@rpc(public=True)`."""
    return {name for name, (meta, _) in rpc_methods().items() if meta.public}


# ---------------------------------------------------------------- calling a method by name


@dataclass(frozen=True)
class Outcome:
    code: grpc.StatusCode
    reason: str = ""
    message: str = ""
    response: str = ""  # what a call that should have failed answered, for the failure message


def invoke(
    channel: grpc.Channel,
    method: descriptor.MethodDescriptor,
    request: Message,
    session: Session,
    timeout: float = 10.0,
) -> Outcome:
    """Calls `method` as `session` and tells how it ended; never raises on a gRPC error."""
    if request.DESCRIPTOR is not method.input_type:
        raise TypeError(
            f"{method.full_name} takes {method.input_type.full_name}, "
            f"not {request.DESCRIPTOR.full_name}"
        )
    response_class = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=type(request).SerializeToString,
        response_deserializer=response_class.FromString,
    )
    try:
        response = call(request, metadata=session.metadata, timeout=timeout)
    except grpc.RpcError as exc:
        details = error_details(exc)
        return Outcome(details.code, details.reason, details.message)
    return Outcome(grpc.StatusCode.OK, response=str(MessageToDict(response)))


def with_ghost_ids(request: Message, ids: Iterable[str]) -> Message:
    """The same request with each of `ids` (`tnt_...`, `mem_...`) replaced by a fresh id of the
    same kind, which names nothing."""
    text = text_format.MessageToString(request)
    for real in ids:
        prefix, _, random_part = real.partition("_")
        text = text.replace(real, f"{prefix}_{secrets.token_hex(len(random_part) // 2)}")
    return text_format.Parse(text, type(request)())


# ---------------------------------------------------------------- read-backs


def as_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


def tenant_state(api: Api, reader: Session, tenant_id: str) -> dict[str, Any]:
    return as_dict(
        api.tenants.GetTenant(
            pb.GetTenantRequest(name=tenant_name(tenant_id)), metadata=reader.metadata
        )
    )


def all_tenants(api: Api, operator: Session) -> list[dict[str, Any]]:
    """Every tenant, oldest first, as the operator lists them."""
    tenants: list[dict[str, Any]] = []
    token = ""
    while True:
        page = api.tenants.ListTenants(
            pb.ListTenantsRequest(page_size=200, page_token=token), metadata=operator.metadata
        )
        tenants.extend(as_dict(t) for t in page.tenants)
        token = page.next_page_token
        if not token:
            return tenants


def member_state(api: Api, reader: Session, tenant_id: str, member_id: str) -> dict[str, Any]:
    return as_dict(
        api.members.GetMember(
            pb.GetMemberRequest(name=member_name(tenant_id, member_id)), metadata=reader.metadata
        )
    )


def all_members(api: Api, admin: Session, tenant_id: str) -> list[dict[str, Any]]:
    """Every member of a tenant, oldest first, as its admin (or the operator) lists them."""
    members: list[dict[str, Any]] = []
    token = ""
    while True:
        page = api.members.ListMembers(
            pb.ListMembersRequest(parent=tenant_name(tenant_id), page_size=200, page_token=token),
            metadata=admin.metadata,
        )
        members.extend(as_dict(m) for m in page.members)
        token = page.next_page_token
        if not token:
            return members


def own_memberships(api: Api, person: Session) -> list[dict[str, Any]]:
    return [
        as_dict(m)
        for m in api.members.ListMyMemberships(
            pb.ListMyMembershipsRequest(), metadata=person.metadata
        ).memberships
    ]
