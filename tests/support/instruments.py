"""Small instruments for assessment's domain tests, built in a line, and hypothesis strategies
for answer sets."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

from services.assessment.domain.instruments import (
    FREE_TEXT,
    LIKERT,
    MULTIPLE_CHOICE,
    NUMERIC_SCALE,
    RANKING,
    SINGLE_CHOICE,
    SUM,
    Band,
    Dimension,
    Instrument,
    Item,
    Option,
    Text,
)


def text(words: str) -> Text:
    return Text(en=words, fr=words + " (fr)")


def likert(item_id: str, low: int = 1, high: int = 5, required: bool = True) -> Item:
    labels = tuple(text(f"point {n}") for n in range(low, high + 1))
    return Item(item_id, LIKERT, text(item_id), required, low, high, labels=labels)


def numeric(item_id: str, low: float, high: float, step: float) -> Item:
    return Item(item_id, NUMERIC_SCALE, text(item_id), scale_min=low, scale_max=high, step=step)


def choice(item_id: str, values: dict[str, float], many: bool = False) -> Item:
    options = tuple(Option(k, text(k), v) for k, v in values.items())
    return Item(item_id, MULTIPLE_CHOICE if many else SINGLE_CHOICE, text(item_id), options=options)


def ranking(item_id: str, keys: Sequence[str]) -> Item:
    options = tuple(Option(k, text(k)) for k in keys)
    return Item(item_id, RANKING, text(item_id), required=False, options=options)


def free_text(item_id: str, max_length: int = 200) -> Item:
    return Item(item_id, FREE_TEXT, text(item_id), required=False, max_length=max_length)


def bands(*edges: float) -> tuple[Band, ...]:
    """Bands from edge to edge: bands(1, 3, 5) is [1, 3) and [3, 5]."""
    return tuple(
        Band(low, high, text(f"band {n}"), text(f"meaning {n}"))
        for n, (low, high) in enumerate(pairwise(edges))
    )


def dimension(
    dimension_id: str,
    items: Sequence[str],
    edges: Sequence[float],
    method: str = SUM,
    weights: dict[str, float] | None = None,
    reverse: Sequence[str] = (),
) -> Dimension:
    return Dimension(
        dimension_id,
        text(dimension_id),
        tuple(items),
        bands(*edges),
        method,
        tuple((weights or {}).items()),
        frozenset(reverse),
    )


def instrument(
    items: Sequence[Item], dimensions: Sequence[Dimension], version: int = 1
) -> Instrument:
    return Instrument(
        "example", version, text("Example"), text("An example"), tuple(items), tuple(dimensions)
    ).check()


def answer_for(item: Item) -> st.SearchStrategy[Any]:
    """A valid answer to `item`."""
    if item.kind == LIKERT:
        return st.integers(int(item.scale_min), int(item.scale_max))
    if item.kind == NUMERIC_SCALE:
        steps = round((item.scale_max - item.scale_min) / item.step)
        return st.integers(0, steps).map(lambda n: item.scale_min + n * item.step)
    keys = [o.key for o in item.options]
    if item.kind == SINGLE_CHOICE:
        return st.sampled_from(keys)
    if item.kind == MULTIPLE_CHOICE:
        return st.lists(st.sampled_from(keys), min_size=1, unique=True)
    if item.kind == RANKING:
        return st.permutations(keys).map(list)
    return st.text(alphabet="abc ", min_size=1, max_size=item.max_length).filter(str.strip)


def full_answers(instr: Instrument) -> st.SearchStrategy[dict[str, Any]]:
    """A complete, valid answer set to `instr`."""
    return st.fixed_dictionaries({item.id: answer_for(item) for item in instr.items})
