"""Shared shapes: the base model, pagination, and the text and date rules of every request."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.kernel.errors import Problem
from services.kernel.validation import (
    INCOMING,
    MULTI_LINE,
    OPAQUE,
    TextKind,
    date_problem,
    text_problem,
)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

# A request from outside is validated with the context {INCOMING: True} (the kernel's rpc
# entrypoint, `Contract.from_request`): its text and dates are checked. Views built from stored
# data are not re-checked (a name stored before a rule existed must still be shown), except for
# NUL and surrogates, which nothing can have stored.

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
