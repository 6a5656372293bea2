"""Typed errors (rule 6). Domain code raises them; they cross RPC as such; the gateway maps them.

Each error has a stable `reason` (UPPER_SNAKE, the `ErrorInfo.reason` clients match on), an English
message for developers and logs (never free text a person wrote), optional field violations and
string metadata. `to_wire`/`from_wire` carry them through nameko's error serialisation: the single
exception argument is the wire dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL
    default_reason: ClassVar[str] = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        fields: list[FieldViolation] | tuple[FieldViolation, ...] = (),
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.message = message
        self.reason = reason or self.default_reason
        self.fields = tuple(fields)
        self.metadata = dict(metadata or {})
        super().__init__(self.to_wire())

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}: {self.message}"

    def to_wire(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "reason": self.reason,
            "message": self.message,
            "fields": [{"field": f.field, "description": f.description} for f in self.fields],
            "metadata": self.metadata,
        }


class InvalidArgument(DomainError):
    code = ErrorCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class FailedPrecondition(DomainError):
    code = ErrorCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class ResourceExhausted(DomainError):
    code = ErrorCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"


class DeadlineExceeded(DomainError):
    code = ErrorCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"


class Unavailable(DomainError):
    code = ErrorCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class Internal(DomainError):
    code = ErrorCode.INTERNAL
    default_reason = "INTERNAL"


_BY_CODE: dict[str, type[DomainError]] = {
    cls.code.value: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        Unauthenticated,
        FailedPrecondition,
        ResourceExhausted,
        DeadlineExceeded,
        Unavailable,
        Internal,
    )
}


def from_wire(data: dict[str, Any]) -> DomainError:
    """Rebuild an error sent by `to_wire`; anything unrecognised becomes Internal."""
    cls = _BY_CODE.get(str(data.get("code")), Internal)
    return cls(
        str(data.get("message", "")),
        reason=str(data.get("reason") or cls.default_reason),
        fields=[
            FieldViolation(str(f.get("field", "")), str(f.get("description", "")))
            for f in data.get("fields") or []
            if isinstance(f, dict)
        ],
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def from_remote(error: dict[str, Any]) -> DomainError:
    """An error as nameko serialises it in an RPC reply (exc_type, exc_path, exc_args, value)."""
    args = error.get("exc_args") or []
    path = str(error.get("exc_path", ""))
    if path.startswith(__name__ + ".") and args and isinstance(args[0], dict):
        return from_wire(args[0])
    exc_type = str(error.get("exc_type", "Exception"))
    if exc_type == "MethodNotFound":
        return Internal("The service does not offer this method.", reason="METHOD_NOT_FOUND")
    if exc_type in ("IncorrectSignature", "MalformedRequest"):
        return Internal("The request did not match the method.", reason="BAD_RPC_REQUEST")
    # Never echo a foreign exception's text: it may hold data. Its type is enough to debug.
    return Internal(f"Unexpected {exc_type} in a service.", reason="INTERNAL")


def invalid(**fields: str) -> InvalidArgument:
    """InvalidArgument naming each bad field: `raise invalid(email="must be an email address")`."""
    return InvalidArgument(
        "Some fields are invalid: " + ", ".join(sorted(fields)),
        fields=[FieldViolation(name, why) for name, why in fields.items()],
    )
