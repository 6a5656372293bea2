"""The facade's table of methods, read from the protos' descriptors: every unary method of every
`ecoach.v1` gRPC service, at `POST /api/v1/{package.Service}/{Method}`.

Streaming methods are left out (ExportMyData streams documents): HTTP/JSON has no one mapping of
a stream that scripts would agree on; they are called over gRPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from gateway.api.auth import PUBLIC_GRPC_METHODS
from gateway.api.pb import (
    assessment_pb2,
    content_pb2,
    identity_pb2,
    reporting_pb2,
    scheduling_pb2,
    spaces_pb2,
)

PREFIX = "/api/v1"
FILES = (identity_pb2, spaces_pb2, scheduling_pb2, assessment_pb2, content_pb2, reporting_pb2)


@dataclass(frozen=True)
class UnaryMethod:
    descriptor: MethodDescriptor
    request: type[Message]
    response: type[Message]

    @property
    def grpc_path(self) -> str:
        """`/ecoach.v1.AuthService/SignIn`: the gRPC method, as the gateway names it."""
        return f"/{self.descriptor.containing_service.full_name}/{self.descriptor.name}"

    @property
    def http_path(self) -> str:
        return PREFIX + self.grpc_path

    @property
    def public(self) -> bool:
        """Callable without a token, as in the gRPC gateway (its one list)."""
        return self.grpc_path in PUBLIC_GRPC_METHODS


@cache
def unary_methods() -> dict[str, UnaryMethod]:
    """Every unary method, by its HTTP path, in the protos' order."""
    table: dict[str, UnaryMethod] = {}
    for module in FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                if method.client_streaming or method.server_streaming:
                    continue
                unary = UnaryMethod(
                    method,
                    GetMessageClass(method.input_type),
                    GetMessageClass(method.output_type),
                )
                table[unary.http_path] = unary
    return table


def streaming_methods() -> list[str]:
    """The gRPC methods the facade leaves out (for the docs and the OpenAPI description)."""
    return [
        f"{service.full_name}/{method.name}"
        for module in FILES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
        if method.client_streaming or method.server_streaming
    ]
