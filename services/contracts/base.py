"""Shared shapes: the base model, pagination, and the text and date rules of every request."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar
from urllib.parse import SplitResult, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from services.kernel.errors import Internal, Problem
from services.kernel.validation import (
    INCOMING,
    MULTI_LINE,
    OPAQUE,
    TextKind,
    date_problem,
    text_problem,
    validation_error,
)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

# A request from outside is validated with the context {INCOMING: True} (the kernel's rpc
# entrypoint, `Contract.from_request`): its text and dates are checked. Views built from stored
# data are not re-checked (a name stored before a rule existed must still be shown), except for
# NUL and surrogates, which nothing can have stored.

# An identifier of the platform's: a three-letter kind, an underscore, hex digits (ten_1a2b).
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z]{3}_[0-9a-f]+$")]


def web_address(value: str) -> SplitResult | None:
    """The parts of an http(s) address with a host, no space and a valid port, as a person
    would paste it; None for anything else (each contract says what it refuses, and may ask
    more: https only, no credentials)."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        return None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() for ch in value)
        or (port is not None and not 0 < port < 65536)
    ):
        return None
    return parts


# Field types that mark how much a string may hold (services/kernel/validation.py).
MultiLineText = Annotated[str, MULTI_LINE]
OpaqueText = Annotated[str, OPAQUE]


class Contract(BaseModel):
    """Strict by default: unknown fields are refused, so a typo is an error, not a silent no-op.

    Every string field of a request is single-line text unless marked `MULTI_LINE` or `OPAQUE`,
    and every date or instant lies within the platform's horizon: one check here, for every
    field of every request, naming the field (services/kernel/validation.py says which
    characters and dates)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def from_request(cls, data: Any) -> Self:
        """Validate what a caller sent, with the rules for text and dates from outside."""
        return cls.model_validate(data, context={INCOMING: True})

    @field_validator("*", mode="after")
    @classmethod
    def _text_and_dates(cls, value: Any, info: ValidationInfo) -> Any:
        incoming = bool(info.context and info.context.get(INCOMING))
        if not incoming and not isinstance(value, str):
            return value
        field = cls.model_fields.get(info.field_name or "")
        kind = next((m for m in (field.metadata if field else ()) if isinstance(m, TextKind)), None)
        problem = _problem(value, kind if incoming else OPAQUE, incoming)
        if problem:
            # The template and values travel in the context (kernel's `validation_error`).
            raise PydanticCustomError(
                "text_or_date", problem, {"template": problem.template, **problem.values}
            )
        return value


def _problem(value: Any, kind: TextKind | None, incoming: bool, depth: int = 0) -> Problem | None:
    if isinstance(value, str):
        return text_problem(value, kind)
    if not incoming or depth > 3 or isinstance(value, BaseModel):
        return None  # a nested contract checks its own fields
    if isinstance(value, date):
        return date_problem(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            problem = _problem(item, kind, incoming, depth + 1)
            if problem:
                return problem
    return None


class Empty(Contract):
    pass


class PageRequest(Contract):
    page_size: int = Field(default=0, ge=0, le=10_000)
    page_token: str = Field(default="", max_length=512)

    def effective_page_size(self) -> int:
        if self.page_size <= 0:
            return DEFAULT_PAGE_SIZE
        return min(self.page_size, MAX_PAGE_SIZE)


class TenantRef(Contract):
    tenant_id: Id


class TenantKeyRotation(Contract):
    """What a tenant key rotation did (every service that seals data: rule 8)."""

    key_id: str  # the tenant's new key
    rewrapped: int  # data keys moved under it
    retired: int  # older tenant keys deleted


class PingResponse(Contract):
    service: str
    ok: bool


# The operator's name in service tokens: `ecoach-ops` signs with `<keys>/ops.key` (ADR 0022).
OPERATOR_TOOL = "ops"


class RepublishRequest(Contract):
    """Republish the current state of the service's aggregates as snapshot events, for one
    tenant or (no tenant) every tenant (docs/adr/0022-republish.md)."""

    tenant_id: Id | None = None


class RepublishReport(Contract):
    """How many snapshot events of each type were recorded in the outbox."""

    recorded: dict[str, int]


# ---------------------------------------------------------------- methods on the wire

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)


class Method(Generic[Req, Resp]):
    """One RPC method of a service: its name, the contract it takes and the one it answers.

    Callers (the gateway, another service's `ServiceRpc`) build the request from the contract,
    send its JSON, and read the reply back into the response contract: a field misspelt on
    either side is an error where it is made, not a silent `None`."""

    def __init__(self, request: type[Req], response: type[Resp]) -> None:
        self.request = request
        self.response = response
        self.service = ""
        self.name = ""

    def __set_name__(self, owner: type[Api], name: str) -> None:
        self.service = owner.service
        self.name = name

    def __repr__(self) -> str:
        return f"<Method {self.service}.{self.name}>"

    def build(self, **fields: Any) -> Req:
        """The request from a caller's values, checked as the service checks it: every bad
        field is named in one INVALID_ARGUMENT."""
        try:
            return self.request.model_validate(fields, context={INCOMING: True})
        except ValidationError as exc:
            raise validation_error(exc) from None

    def payload(self, request: Req) -> dict[str, Any]:
        """What travels: the fields the caller gave (an unset field keeps the service's
        default, as when it is left out of a JSON object)."""
        if not isinstance(request, self.request):
            raise TypeError(f"{self!r} takes {self.request.__name__}, not {type(request).__name__}")
        return request.model_dump(mode="json", exclude_unset=True)

    def reply(self, data: Any) -> Resp:
        """The service's answer as its contract; one outside it is the service's fault."""
        try:
            return self.response.model_validate(data)
        except ValidationError:
            raise Internal(f"{self.service}.{self.name} answered outside its contract.") from None


class Api:
    """The methods one service serves, declared in its contracts module as
    `name = Method(Request, Response)`. tests/unit/test_contract_methods.py checks them against
    the service's own `@rpc` signatures, both ways."""

    service: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A method inherited from a shared table (`PublishingApi`) becomes this service's."""
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__[1:]:
            for name, method in vars(base).items():
                if isinstance(method, Method) and name not in vars(cls):
                    own: Method[Any, Any] = Method(method.request, method.response)
                    setattr(cls, name, own)
                    own.__set_name__(cls, name)

    @classmethod
    def methods(cls) -> dict[str, Method[Any, Any]]:
        return {k: v for k, v in vars(cls).items() if isinstance(v, Method)}


class PublishingApi(Api):
    """The table of a service that publishes events: it also serves `republish_state`, for the
    operator's tool only (docs/adr/0022-republish.md)."""

    republish_state = Method(RepublishRequest, RepublishReport)


def api_of(service: str) -> type[Api]:
    """The method table of a registered service, from its contracts module
    (`services/contracts/<service>.py`), where it is the one `Api` for `service`."""
    module = importlib.import_module(f"services.contracts.{service}")
    (api,) = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Api) and v is not Api and v.service == service
    ]
    return api
