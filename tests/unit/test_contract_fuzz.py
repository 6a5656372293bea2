"""Property: whatever a caller sends to any request model (random unicode, control characters, surrogates, huge and
empty values, dates at the calendar's edges, wrong types), every contract model either accepts
it, with text and dates that keep the request rules, or refuses it with pydantic's
ValidationError (which the kernel turns into InvalidArgument naming fields) or the kernel's
InvalidArgument naming fields. Never another exception (which would be an INTERNAL answer).

Deterministic (`derandomize=True`, no example database): random data must never make it flaky.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import types
import typing
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import services.contracts
from services.contracts.base import Contract
from services.kernel.errors import InvalidArgument
from services.kernel.validation import OPAQUE, date_problem, text_problem, validation_error

# Every module of the contracts package (a new service's contract is fuzzed without an edit).
CONTRACT_MODULES = [
    importlib.import_module(f"services.contracts.{m.name}")
    for m in pkgutil.iter_modules(services.contracts.__path__)
]

# Every request model (and the inputs they nest): the RPC entrypoints' `request` types are all
# named so. Views are built by the services, not sent by callers.
MODELS = sorted(
    {
        model
        for module in CONTRACT_MODULES
        for _, model in inspect.getmembers(module, inspect.isclass)
        if issubclass(model, Contract)
        and model.__module__ == module.__name__
        and model.__name__.endswith(("Request", "Ref", "Input", "Empty"))
    },
    key=lambda m: f"{m.__module__}.{m.__name__}",
)

EDGE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\t\n\r",
        "\x1b[31m",
        "\x85\u2028\u2029",
        "\ud800",
        "\ufeff",
        "9999-12-31",
        "0001-01-01",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "2027-02-30",
        "24:00",
        "Pacific/Kiritimati",
        "Etc/GMT+12",
        "../../etc/passwd",
        "tnt_00",
        "a@" + "." * 300 + "@",
        "x" * 70_000,
        "![" * 1_000,
    ]
)
TEXT = st.one_of(EDGE_TEXT, st.text(max_size=40), st.text(st.characters(codec=None), max_size=8))
SCALAR = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


# Strings that pass the usual patterns (ids, emails, slugs, zones, dates, clock times), so that
# many payloads get past the types and the text and date rules are what is tested.
SHAPED = st.sampled_from(
    [
        "tnt_0a1b",
        "spc_0a1b",
        "mem_0a1b",
        "per_0a1b",
        "ada@example.test",
        "acme-france",
        "Europe/Paris",
        "fr",
        "2027-01-04",
        "09:00",
        "2027-01-04T09:00:00+01:00",
    ]
)
WITH_HOSTILE = ("\x00", "\x07", "\n", "\ud800")


def hostile(value: str) -> st.SearchStrategy[str]:
    """`value`, or `value` with a hostile character inside."""
    return st.one_of(
        st.just(value), st.sampled_from(WITH_HOSTILE).map(lambda bad: value[:1] + bad + value[1:])
    )


STRING = st.one_of(SHAPED.flatmap(hostile), TEXT)
DATES = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01", "2027-01-04"]),
)
INSTANTS = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(
        [
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+14:00",
            "2999-12-31T23:59:59-01:00",
            "2027-01-04T09:00:00Z",
        ]
    ),
)


def strategy_for(annotation: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like `annotation` most of the time, anything at all sometimes."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return strategy_for(args[0], depth)
    if origin in (types.UnionType, typing.Union):
        return st.one_of([strategy_for(a, depth) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args).flatmap(
            lambda v: hostile(v) if isinstance(v, str) else st.just(v)
        )
    if origin in (list, set, tuple, frozenset):
        item = strategy_for(args[0] if args else Any, depth + 1)
        return st.lists(item, max_size=3)
    if origin is dict:
        return st.dictionaries(STRING, VALUE, max_size=3)
    if annotation is type(None):
        return st.none()
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return payloads(annotation, depth + 1) if depth < 3 else st.just({})
        if issubclass(annotation, enum.Enum):
            return st.sampled_from([m.value for m in annotation])
        if issubclass(annotation, bool):
            return st.booleans()
        if issubclass(annotation, int):
            return st.one_of(st.integers(-(2**40), 2**40), st.integers(0, 100))
        if issubclass(annotation, datetime):
            return INSTANTS
        if issubclass(annotation, date):
            return DATES
        if issubclass(annotation, str):
            return STRING
    return VALUE


def payloads(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Every required field and some optional ones, each shaped like its type or hostile."""
    hints = typing.get_type_hints(model, include_extras=True)
    required, optional = {}, {}
    for name, field in model.model_fields.items():
        shaped = strategy_for(hints.get(name, field.annotation), depth)
        values = st.one_of(shaped, VALUE) if depth == 0 else shaped
        (required if field.is_required() else optional)[name] = values
    if depth == 0:
        optional["not_a_field"] = VALUE
    return st.fixed_dictionaries(required, optional=optional)


def _walk(value: Any) -> list[Any]:
    if isinstance(value, BaseModel):
        return [v for field in type(value).model_fields for v in _walk(getattr(value, field))]
    if isinstance(value, dict):
        return [v for pair in value.items() for item in pair for v in _walk(item)]
    if isinstance(value, list | tuple | set | frozenset):
        return [v for item in value for v in _walk(item)]
    return [value]


@pytest.mark.parametrize(
    "model", MODELS, ids=lambda m: f"{m.__module__.split('.')[-1]}.{m.__name__}"
)
def test_every_contract_accepts_or_refuses_cleanly(model: type[Contract]) -> None:
    @settings(
        derandomize=True,
        database=None,
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(payloads(model))
    def check(data: dict[str, Any]) -> None:
        try:
            parsed = model.from_request(data)
        except (ValidationError, InvalidArgument) as exc:
            # A validator may raise the kernel's InvalidArgument itself (time zones do): the
            # entrypoint passes it on as it is.
            refused = validation_error(exc) if isinstance(exc, ValidationError) else exc
            assert refused.fields and all(f.field and f.description for f in refused.fields)
            return
        parsed.model_dump(mode="json")
        for leaf in _walk(parsed):
            if isinstance(leaf, str):
                assert text_problem(leaf, OPAQUE) is None, (model.__name__, leaf)  # NUL, surrogates
            elif isinstance(leaf, date | datetime):
                assert date_problem(leaf) is None, (model.__name__, leaf)

    check()
