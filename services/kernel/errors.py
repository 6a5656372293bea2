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


class Problem(str):
    """A field problem whose English text holds values: `Problem("at most %(n)s days", n=31)`.

    It is the English text (a `str`), and keeps its template (the catalogue's msgid) and values,
    so the gateway can say it in the caller's language (services/kernel/i18n.py). A problem
    without values is a plain string: it is its own msgid."""

    template: str
    values: dict[str, str]

    def __new__(cls, template: str, **values: object) -> Problem:
        texts = {name: str(value) for name, value in values.items()}
        made = super().__new__(cls, template % texts if texts else template)
        made.template = template
        made.values = texts
        return made


@dataclass(frozen=True)
class FieldViolation:
    """A bad field and why, in English (`description`). `template` and `values` say it again as
    a catalogue msgid and its values when the text holds values (see `Problem`)."""

    field: str
    description: str
    template: str = ""
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, field: str, why: str) -> FieldViolation:
        if isinstance(why, Problem):
            return cls(field, str(why), why.template, tuple(sorted(why.values.items())))
        return cls(field, why)

    @property
    def msgid(self) -> str:
        return self.template or self.description


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
            "fields": [
                {
                    "field": f.field,
                    "description": f.description,
                    "template": f.template,
                    "values": dict(f.values),
                }
                for f in self.fields
            ],
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
            FieldViolation(
                str(f.get("field", "")),
                str(f.get("description", "")),
                str(f.get("template") or ""),
                tuple(sorted((str(k), str(v)) for k, v in _mapping(f.get("values")).items())),
            )
            for f in data.get("fields") or []
            if isinstance(f, dict)
        ],
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


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
    """InvalidArgument naming each bad field: `raise invalid(email="must be an email address")`.
    Each text is a msgid of the kernel's catalogue (a `Problem` when it holds values)."""
    return InvalidArgument(
        "Some fields are invalid: " + ", ".join(sorted(fields)),
        fields=[FieldViolation.of(name, why) for name, why in fields.items()],
    )
