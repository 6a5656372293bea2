"""Instruments (services/assessment/domain/instruments.py): `check()` names what is wrong, bands
cover a dimension's range without gaps or overlaps, versions are immutable values; and the
document format (services/contracts/assessment.py) reads and writes them, its schema published
in docs/schemas/instrument.schema.json."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.adapters.documents import (
    document_of,
    instrument_of,
    read_document,
    read_instrument,
    write_document,
)
from services.assessment.domain.instruments import MEAN, SUM, Band, Instrument, Item, Text
from services.contracts.assessment import InstrumentDocument, schema_text
from services.kernel.errors import InvalidArgument
from tests.support.instruments import (
    bands,
    choice,
    dimension,
    free_text,
    instrument,
    likert,
    numeric,
    ranking,
    text,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "schemas" / "instrument.schema.json"
REGENERATE = (
    ".venv/bin/python -c 'from services.contracts.assessment import schema_text; "
    'print(schema_text(), end="")\' > docs/schemas/instrument.schema.json'
)


def problems(instr: Instrument) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as refused:
        instr.check()
    return {f.field: f.description for f in refused.value.fields}


def two_items(*dimensions: object) -> Instrument:
    return Instrument(
        "example",
        1,
        text("Example"),
        text("An example"),
        (likert("a"), likert("b")),
        tuple(dimensions),  # type: ignore[arg-type]
    )


def test_bands_must_cover_the_range_without_gaps_or_overlaps() -> None:
    gap = dimension("d", ["a", "b"], [2, 5, 10])
    gap = dataclasses.replace(gap, bands=(gap.bands[0], dataclasses.replace(gap.bands[1], lower=6)))
    assert problems(two_items(gap)) == {
        "dimensions[0].bands[1].from": "must be 5, where the range or the band before ends"
    }
    overlap = dataclasses.replace(gap, bands=bands(2, 6, 4, 10))
    assert problems(two_items(overlap)) == {"dimensions[0].bands[1].to": "must be more than from"}
    short = dimension("d", ["a", "b"], [2, 6, 9])
    assert problems(two_items(short)) == {
        "dimensions[0].bands[1].to": "must be 10, the highest score"
    }
    late = dimension("d", ["a", "b"], [1, 3, 5], MEAN)
    assert problems(two_items(dataclasses.replace(late, bands=bands(1.5, 3, 5)))) == {
        "dimensions[0].bands[0].from": "must be 1, where the range or the band before ends"
    }


def test_check_names_each_bad_item_and_dimension() -> None:
    broken = Instrument(
        "Not A Slug",
        0,
        Text("Title", ""),
        text("d"),
        (
            likert("a"),
            dataclasses.replace(likert("a"), labels=()),
            Item("n", "numeric_scale", text("n"), scale_min=0, scale_max=1, step=0.3),
            choice("c", {"only": 1}),
            free_text("f", max_length=0),
            Item("x", "slider", text("x")),
        ),
        (
            dimension("d", ["a", "f"], [1, 5]),
            dimension("e", ["a"], [1, 5], SUM, weights={"a": 2}),
            dimension("g", ["a"], [1, 5], reverse=["zz"]),
        ),
    )
    assert problems(broken) == {
        "slug": "lowercase letters, digits and inner hyphens, 2 to 64",
        "version": "must be 1 or more",
        "title": "needs French and English text",
        "items[1].id": "each id once",
        "items[1].labels": "one label per point: 5",
        "items[2].step": "more than 0, and max - min a whole number of steps",
        "items[3].options": "2 to 30 options, each key once",
        "items[4].max_length": "between 1 and 4000",
        "items[5].kind": (
            "one of likert, single_choice, multiple_choice, numeric_scale, ranking, free_text"
        ),
        "dimensions[0].items": "likert, choice or numeric items of this instrument",
        "dimensions[1].weights": "only for the weighted method",
        "dimensions[2].reversed": "items of this dimension",
    }


def test_scored_items_are_required_and_belong_to_a_dimension() -> None:
    optional = dataclasses.replace(likert("a"), required=False)
    assert problems(
        Instrument("ex", 1, text("t"), text("d"), (optional,), (dimension("d", ["a"], [1, 5]),))
    ) == {"dimensions[0].items": "a scored item must be required"}
    assert problems(Instrument("ex", 1, text("t"), text("d"), (likert("a"),), ())) == {
        "dimensions": "scored items need a dimension"
    }


def test_a_new_version_is_a_new_value_and_the_old_one_stays() -> None:
    v1 = instrument([likert("a")], [dimension("d", ["a"], [1, 5])])
    v2 = v1.next_version(title=text("Renamed"))
    assert (v1.version, v1.title.en, v2.version, v2.title.en) == (1, "Example", 2, "Renamed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v1.version = 3  # type: ignore[misc]


@settings(
    derandomize=True,
    database=None,
    max_examples=80,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    st.integers(1, 4),
    st.lists(st.integers(1, 99), min_size=0, max_size=4, unique=True),
    st.data(),
)
def test_checked_bands_hold_every_score_exactly_once(
    count: int, cuts: list[int], data: st.DataObject
) -> None:
    items = [likert(f"i{n}") for n in range(count)]
    ids = [i.id for i in items]
    low, high = count, 5 * count
    edges = [low, *sorted({low + (high - low) * c / 100 for c in cuts}), high]
    dim = dimension("d", ids, edges)
    instrument(items, [dim])  # checks
    for score in [low, high, *edges, data.draw(st.floats(low, high))]:
        holding = [b for n, b in enumerate(dim.bands) if b.holds(score, n == len(dim.bands) - 1)]
        assert len(holding) == 1, (score, edges)
        assert dim.band_for(score) == holding[0]


# ------------------------------------------------------------------ documents

EXAMPLE = """
slug: listening
version: 2
title: {en: Listening, fr: Écoute}
description: {en: How you listen., fr: Votre écoute.}
items:
  - {id: listens, kind: likert, prompt: {en: I listen, fr: J'écoute}, min: 1, max: 3,
     labels: [{en: rarely, fr: rarement}, {en: sometimes, fr: parfois}, {en: often, fr: souvent}]}
  - {id: talks, kind: likert, prompt: {en: I talk, fr: Je parle}, min: 1, max: 3,
     labels: [{en: rarely, fr: rarement}, {en: sometimes, fr: parfois}, {en: often, fr: souvent}]}
  - {id: order, kind: ranking, required: false, prompt: {en: Order, fr: Ordre},
     options: [{key: a, label: {en: A, fr: A}}, {key: b, label: {en: B, fr: B}}]}
dimensions:
  - id: listening
    title: {en: Listening, fr: Écoute}
    items: [listens, talks]
    method: weighted
    weights: {listens: 2}
    reversed: [talks]
    bands:
      - {from: 1, to: 2, label: {en: Low, fr: Bas}, meaning: {en: Rarely, fr: Rarement}}
      - {from: 2, to: 3, label: {en: High, fr: Haut}, meaning: {en: Often, fr: Souvent}}
"""


def test_a_yaml_document_reads_as_a_checked_instrument_and_writes_back_the_same() -> None:
    instr = read_instrument(EXAMPLE)
    assert (instr.slug, instr.version, instr.title.fr) == ("listening", 2, "Écoute")
    (dim,) = instr.dimensions
    assert (dim.weight_of("listens"), dim.reversed_items) == (2, frozenset({"talks"}))
    assert read_instrument(write_document(instr)) == instr
    as_json = document_of(instr).model_dump_json(by_alias=True)
    assert read_instrument(as_json) == instr
    assert instrument_of(InstrumentDocument.model_validate_json(as_json)) == instr


def test_a_document_is_strict_and_its_problems_are_named() -> None:
    with pytest.raises(InvalidArgument) as refused:
        read_document(EXAMPLE.replace("version: 2", "version: '2'\nauthor: me"))
    assert {f.field for f in refused.value.fields} == {"version", "author"}
    with pytest.raises(InvalidArgument) as refused:
        read_document("slug: [unclosed")
    assert [f.field for f in refused.value.fields] == ["document"]
    with pytest.raises(InvalidArgument) as refused:
        read_instrument(EXAMPLE.replace("to: 3", "to: 4"))
    assert [f.field for f in refused.value.fields] == ["dimensions[0].bands[1].to"]


def test_the_published_schema_is_up_to_date() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        f"docs/schemas/instrument.schema.json is stale; regenerate it: {REGENERATE}"
    )
    schema = json.loads(schema_text())
    assert schema["title"] == "ecoach instrument"
    assert set(schema["required"]) == {"slug", "version", "title", "description", "items"}


def test_every_item_kind_survives_a_round_trip() -> None:
    instr = instrument(
        [
            likert("l"),
            numeric("n", 0, 10, 0.5),
            choice("s", {"x": 0, "y": 1}),
            choice("m", {"x": 1, "y": 2}, many=True),
            ranking("r", ["x", "y"]),
            free_text("f"),
        ],
        [dimension("d", ["l", "n", "s", "m"], [1, 10, 19])],
    )
    assert read_instrument(write_document(instr)) == instr
    assert isinstance(instr.dimensions[0].bands[0], Band)
