"""Assessment's scoring (services/assessment/domain/scoring.py): answers checked against their
items, scores per dimension within their bounds, reversed items mirrored, weights applied, the
band a score falls in, and the trend over attempts. Examples first, then properties
(hypothesis, deterministic as in test_contract_fuzz.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.domain.instruments import MEAN, WEIGHTED, Instrument
from services.assessment.domain.scoring import (
    Result,
    check_answers,
    item_points,
    score,
    trend,
)
from services.kernel.errors import InvalidArgument
from tests.support.instruments import (
    choice,
    dimension,
    free_text,
    full_answers,
    instrument,
    likert,
    numeric,
    ranking,
    text,
)

PROPERTY = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def stress() -> Instrument:
    return instrument(
        [
            likert("tense"),
            likert("rested"),
            likert("overload"),
            free_text("why"),
            ranking("order", "abc"),
        ],
        [
            dimension(
                "stress",
                ["tense", "rested", "overload"],
                [1, 2.5, 3.5, 5],
                WEIGHTED,
                weights={"overload": 2},
                reverse=["rested"],
            )
        ],
    )


def fields(refused: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {f.field: f.description for f in refused.value.fields}


# ------------------------------------------------------------------ answers


def test_a_draft_may_be_partial_but_a_submission_answers_every_required_item() -> None:
    kept = check_answers(stress(), {"tense": 4, "why": "  deadlines  "}, complete=False)
    assert kept == {"tense": 4, "why": "deadlines"}
    with pytest.raises(InvalidArgument) as refused:
        check_answers(stress(), {"tense": 4}, complete=True)
    assert fields(refused) == {"answers.rested": "is required", "answers.overload": "is required"}


def test_each_answer_is_checked_against_its_item_and_named() -> None:
    instr = instrument(
        [
            likert("mood"),
            numeric("drive", 0, 10, 0.5),
            choice("pick", {"a": 1, "b": 2}),
            choice("many", {"a": 1, "b": 2}, many=True),
            ranking("order", ["x", "y", "z"]),
            free_text("story", max_length=5),
        ],
        [dimension("all", ["mood", "drive", "pick", "many"], [2, 11, 20])],
    )
    with pytest.raises(InvalidArgument) as refused:
        check_answers(
            instr,
            {
                "mood": 6,
                "drive": 2.25,
                "pick": "c",
                "many": ["a", "a"],
                "order": ["x", "y"],
                "story": "too long",
                "ghost": 1,
            },
            complete=False,
        )
    assert fields(refused) == {
        "answers.mood": "from 1 to 5",
        "answers.drive": "in steps of 0.5",
        "answers.pick": "is not one of the options",
        "answers.many": "options of this item, each once",
        "answers.order": "must rank every option",
        "answers.story": "at most 5 characters",
        "answers.ghost": "is not an item of this instrument",
    }
    with pytest.raises(InvalidArgument) as refused:
        check_answers(instr, {"mood": True, "many": "a", "story": 3}, complete=False)
    assert fields(refused) == {
        "answers.mood": "must be a number",
        "answers.many": "must be a list of option keys",
        "answers.story": "must be text",
    }


def test_a_likert_answer_is_one_of_its_points() -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_answers(stress(), {"tense": 3.5}, complete=False)
    assert fields(refused) == {"answers.tense": "in steps of 1"}
    assert check_answers(stress(), {"tense": 3.0}, complete=False) == {"tense": 3.0}


def test_blank_answers_are_not_answers() -> None:
    assert check_answers(stress(), {"tense": None, "why": "   ", "order": []}, complete=False) == {}


# ------------------------------------------------------------------ scores


def test_a_weighted_dimension_with_a_reversed_item() -> None:
    # tense 4, rested 2 reversed to 4, overload 5 weighing 2: (4 + 4 + 10) / 4 = 4.5
    result = score(stress(), {"tense": 4, "rested": 2, "overload": 5})
    (found,) = result.scores
    assert (result.slug, result.version) == ("example", 1)
    assert (found.raw, found.lowest, found.highest) == (4.5, 1, 5)
    assert found.normalised == 87.5
    assert found.band.label.en == "band 2"


def test_sum_and_mean_and_the_band_edges() -> None:
    instr = instrument(
        [likert("a"), likert("b")],
        [dimension("total", ["a", "b"], [2, 6, 10]), dimension("avg", ["a", "b"], [1, 3, 5], MEAN)],
    )
    low = score(instr, {"a": 1, "b": 1})
    edge = score(instr, {"a": 3, "b": 3})
    top = score(instr, {"a": 5, "b": 5})
    assert [(s.raw, s.normalised, s.band.label.en) for s in low.scores] == [
        (2, 0, "band 0"),
        (1, 0, "band 0"),
    ]
    # A score on an edge belongs to the band that starts there; the top one holds the maximum.
    assert [s.band.label.en for s in edge.scores] == ["band 1", "band 1"]
    assert [(s.normalised, s.band.label.en) for s in top.scores] == [(100, "band 1")] * 2


def test_choices_score_their_values_and_multiple_choices_add_up() -> None:
    instr = instrument(
        [choice("one", {"no": 0, "yes": 3}), choice("many", {"a": -1, "b": 2, "c": 1}, many=True)],
        [dimension("d", ["one", "many"], [-1, 2, 6])],
    )
    assert instr.bounds(instr.dimensions[0]) == (-1, 6)
    assert score(instr, {"one": "yes", "many": ["a", "b"]}).scores[0].raw == 4


def test_free_text_and_rankings_are_never_scored() -> None:
    result = score(
        stress(),
        {"tense": 1, "rested": 5, "overload": 1, "why": "x" * 200, "order": ["c", "a", "b"]},
    )
    assert [(s.dimension, s.raw) for s in result.scores] == [("stress", 1)]


# ------------------------------------------------------------------ trend


def at(month: int) -> datetime:
    return datetime(2027, month, 1, tzinfo=UTC)


def test_a_trend_per_dimension_from_the_first_attempt_to_the_last() -> None:
    instr = stress()
    attempts = [
        (at(4), score(instr, {"tense": 2, "rested": 4, "overload": 2}).normalised()),
        (at(1), score(instr, {"tense": 5, "rested": 1, "overload": 5}).normalised()),
    ]
    (stress_trend,) = trend(attempts)
    assert [when for when, _ in stress_trend.points] == [at(1), at(4)]
    assert [value for _, value in stress_trend.points] == [100, 25]
    assert stress_trend.change == -75


def test_a_trend_spans_versions_by_normalised_score_and_keeps_each_dimension_s_own_series() -> None:
    v1 = instrument([likert("a")], [dimension("calm", ["a"], [1, 5])])
    v2 = instrument(
        [likert("a", 1, 7), likert("b")],
        [dimension("calm", ["a"], [1, 7]), dimension("focus", ["b"], [1, 5])],
        version=2,
    )
    trends = trend(
        [
            (at(1), score(v1, {"a": 3}).normalised()),
            (at(2), score(v2, {"a": 7, "b": 1}).normalised()),
        ]
    )
    assert [(t.dimension, [v for _, v in t.points], t.change) for t in trends] == [
        ("calm", [50, 100], 50),
        ("focus", [0], 0),
    ]
    assert trend([]) == ()


# ------------------------------------------------------------------ properties

ITEM_BOUNDS = st.tuples(st.integers(-5, 5), st.integers(1, 6)).map(lambda t: (t[0], t[0] + t[1]))


@st.composite
def dimensions_with_answers(draw: st.DrawFn) -> tuple[Instrument, dict[str, Any]]:
    """A one-dimension instrument of 1 to 6 items (likert, numeric, choices), any method,
    weights and reversed items, with a complete answer set."""
    items = []
    for n in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["likert", "numeric", "choice", "many"]))
        low, high = draw(ITEM_BOUNDS)
        if kind == "likert":
            items.append(likert(f"i{n}", low, high))
        elif kind == "numeric":
            items.append(numeric(f"i{n}", low / 2, high / 2, 0.5))
        else:
            values = draw(st.lists(st.integers(-3, 3), min_size=2, max_size=4))
            keys = {f"o{k}": float(v) for k, v in enumerate(values)}
            if len(set(values)) == 1:
                keys["o9"] = values[0] + 1.0  # no room between lowest and highest otherwise
            items.append(choice(f"i{n}", keys, many=kind == "many"))
    ids = [i.id for i in items]
    method = draw(st.sampled_from(["sum", "mean", "weighted"]))
    weights = (
        {i: draw(st.sampled_from([0.5, 1, 2, 3.5])) for i in ids} if method == "weighted" else {}
    )
    reverse = draw(st.lists(st.sampled_from(ids), unique=True))
    bare = Instrument("example", 1, text("Example"), text("An example"), tuple(items), ())
    probe = dimension("d", ids, [0, 1], method, weights, reverse)
    low, high = bare.bounds(probe)
    cuts = sorted(draw(st.lists(st.floats(low, high), max_size=3, unique=True)))
    edges = [low, *[c for c in cuts if low + 1e-6 < c < high - 1e-6], high]
    edges = [e for n, e in enumerate(edges) if n == 0 or e - edges[n - 1] > 1e-6]
    instr = instrument(items, [dimension("d", ids, edges, method, weights, reverse)])
    return instr, draw(full_answers(instr))


@PROPERTY
@given(dimensions_with_answers())
def test_scores_stay_within_their_bounds_and_always_fall_in_a_band(
    case: tuple[Instrument, dict[str, Any]],
) -> None:
    instr, answers = case
    (found,) = score(instr, answers).scores
    assert found.lowest <= found.raw <= found.highest
    assert 0 <= found.normalised <= 100
    assert found.band in instr.dimensions[0].bands


@PROPERTY
@given(ITEM_BOUNDS, st.data())
def test_a_reversed_item_mirrors_its_score(bounds: tuple[int, int], data: st.DataObject) -> None:
    low, high = bounds
    plain = instrument([likert("a", low, high)], [dimension("d", ["a"], [low, high])])
    mirrored = instrument(
        [likert("a", low, high)], [dimension("d", ["a"], [low, high], reverse=["a"])]
    )
    value = data.draw(st.integers(low, high))
    straight = score(plain, {"a": value}).scores[0]
    reversed_ = score(mirrored, {"a": value}).scores[0]
    assert straight.raw + reversed_.raw == low + high
    assert math.isclose(straight.normalised + reversed_.normalised, 100)
    assert item_points(plain.items[0], value, reverse=True) == low + high - value


@PROPERTY
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([0.5, 2, 3, 10]))
def test_a_weight_counts_its_item_that_many_times(a: int, b: int, weight: float) -> None:
    weighted = instrument(
        [likert("a"), likert("b")],
        [dimension("d", ["a", "b"], [1, 5], WEIGHTED, weights={"a": weight})],
    )
    raw = score(weighted, {"a": a, "b": b}).scores[0].raw
    assert math.isclose(raw, (a * weight + b) / (weight + 1))
    if a > b:
        assert raw > (a + b) / 2 if weight > 1 else raw < (a + b) / 2


def test_results_keep_the_version_they_were_scored_with() -> None:
    v1 = stress()
    v2 = v1.next_version()
    answers = {"tense": 3, "rested": 3, "overload": 3}
    assert score(v1, answers) == Result("example", 1, score(v1, answers).scores)
    assert score(v2, answers).version == 2
    assert v1.version == 1
