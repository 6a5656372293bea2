"""The built-in catalogue (services/assessment/catalogue/*.yaml): at least eight instruments,
each loading, passing `check()`, scoring full answer sets (lowest, highest and any), with
French and English for every text a person reads."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.adapters.documents import read_document, read_instrument, write_document
from services.assessment.catalogue import FOLDER, catalogue, from_catalogue
from services.assessment.domain.instruments import FREE_TEXT, RANKING, Instrument, Item, Text
from services.assessment.domain.scoring import score
from services.kernel.errors import NotFound
from tests.support.instruments import full_answers

SLUGS = [i.slug for i in catalogue()]


def test_the_catalogue_holds_at_least_eight_instruments_one_file_each() -> None:
    assert len(SLUGS) >= 8
    assert sorted(p.stem for p in FOLDER.glob("*.yaml")) == SLUGS
    assert {
        "wheel-of-life",
        "values",
        "strengths",
        "stress-and-energy",
        "confidence",
        "leadership-styles",
        "work-life-balance",
        "motivation",
    } <= set(SLUGS)
    with pytest.raises(NotFound):
        from_catalogue("no-such-tool")


def test_the_catalogue_uses_every_feature_of_the_format() -> None:
    items = [i for instr in catalogue() for i in instr.items]
    dims = [d for instr in catalogue() for d in instr.dimensions]
    assert any(d.reversed_items and d.weights for d in dims)
    assert {RANKING, FREE_TEXT} <= {i.kind for i in items}
    assert {"sum", "mean", "weighted"} == {d.method for d in dims}


def texts(value: Any, where: str) -> list[tuple[str, Text]]:
    """Every Text inside an instrument, with where it is."""
    if isinstance(value, Text):
        return [(where, value)]
    if isinstance(value, tuple | list | frozenset):
        return [t for n, v in enumerate(value) for t in texts(v, f"{where}[{n}]")]
    if is_dataclass(value):
        return [
            t for f in fields(value) for t in texts(getattr(value, f.name), f"{where}.{f.name}")
        ]
    return []


@pytest.mark.parametrize("slug", SLUGS)
def test_every_text_is_in_french_and_english(slug: str) -> None:
    instr = from_catalogue(slug)
    found = texts(instr, slug)
    assert len(found) > 10
    missing = [where for where, t in found if not (t.en.strip() and t.fr.strip())]
    assert missing == []
    same = [where for where, t in found if t.en == t.fr and len(t.en) > 12]
    assert same == [], "untranslated texts"


@pytest.mark.parametrize("slug", SLUGS)
def test_each_instrument_scores_its_lowest_and_highest_answers(slug: str) -> None:
    instr = from_catalogue(slug)
    for pick in (min, max):
        answers = {i.id: _extreme(i, pick) for i in instr.items}
        for found in score(instr, answers).scores:
            assert found.lowest <= found.raw <= found.highest
            assert found.band in instr.dimension(found.dimension).bands


def _extreme(item: Item, pick: Any) -> Any:
    if item.kind in ("likert", "numeric_scale"):
        return pick(item.scale_min, item.scale_max)
    keys = [o.key for o in item.options]
    if item.kind == "single_choice":
        return pick(item.options, key=lambda o: o.value).key
    if item.kind == "multiple_choice":
        return [pick(item.options, key=lambda o: o.value).key]
    if item.kind == RANKING:
        return keys
    return "A few words."


@settings(
    derandomize=True,
    database=None,
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.data())
def test_any_full_answer_set_to_any_catalogue_instrument_scores_within_bounds(
    data: st.DataObject,
) -> None:
    instr: Instrument = data.draw(st.sampled_from(catalogue()))
    result = score(instr, data.draw(full_answers(instr)))
    assert [s.dimension for s in result.scores] == [d.id for d in instr.dimensions]
    assert all(0 <= s.normalised <= 100 for s in result.scores)


@pytest.mark.parametrize("slug", SLUGS)
def test_each_file_is_a_version_one_document_that_exports_back_the_same(slug: str) -> None:
    source = (FOLDER / f"{slug}.yaml").read_text(encoding="utf-8")
    assert read_document(source).slug == slug
    instr = from_catalogue(slug)
    assert read_instrument(write_document(instr)) == instr
