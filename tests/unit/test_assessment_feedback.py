"""360 feedback (services/assessment/domain/feedback.py): a rater group's results, scores and
free text alike, are shown only with at least three answers; smaller groups merge into
"others", hidden too below three; below three raters in all nothing is shown; the coachee's own
answers always are; free text is sorted and carries no names."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.domain.feedback import (
    DIRECT_REPORT,
    MANAGER,
    MIN_GROUP,
    OTHER,
    OTHERS,
    PEER,
    RATER_GROUPS,
    SELF,
    RaterAnswers,
    feedback,
    shown_groups,
)
from services.assessment.domain.instruments import MEAN, Instrument
from services.kernel.errors import InvalidArgument
from tests.support.instruments import dimension, free_text, instrument, likert


def listening() -> Instrument:
    return instrument(
        [likert("listens"), likert("explains"), free_text("advice")],
        [dimension("listening", ["listens", "explains"], [1, 3, 5], MEAN)],
    )


def rater(group: str, value: int, advice: str = "") -> RaterAnswers:
    return RaterAnswers(group, {"listens": value, "explains": value, "advice": advice})


def test_two_peers_merge_into_others_and_three_direct_reports_are_shown() -> None:
    # The scenario: 2 peers (merged into others, with the manager) and 3 reports.
    shown = feedback(
        listening(),
        [
            rater(SELF, 5, "I listen well"),
            rater(PEER, 2, "Interrupts"),
            rater(PEER, 4),
            rater(MANAGER, 3, "Clear"),
            rater(DIRECT_REPORT, 1, "b: more time"),
            rater(DIRECT_REPORT, 2, "a: asks us"),
            rater(DIRECT_REPORT, 3),
        ],
    )
    assert shown.own is not None
    assert (shown.own.count, shown.own.scores[0].raw) == (1, 5)
    assert shown.own.comments == (("advice", ("I listen well",)),)
    assert [(g.group, g.count, g.scores[0].raw) for g in shown.groups] == [
        (DIRECT_REPORT, 3, 2),
        (OTHERS, 3, 3),
    ]
    reports, others = shown.groups
    assert reports.comments == (("advice", ("a: asks us", "b: more time")),)  # sorted
    assert others.comments == (("advice", ("Clear", "Interrupts")),)
    assert shown.hidden == 0


def test_others_below_three_are_hidden_and_counted_only() -> None:
    shown = feedback(
        listening(),
        [rater(PEER, 1, "only peer"), *[rater(DIRECT_REPORT, 4, "fine") for _ in range(3)]],
    )
    assert [g.group for g in shown.groups] == [DIRECT_REPORT]
    assert "only peer" not in str(shown)
    assert shown.hidden == 1


def test_below_three_raters_in_all_nothing_is_shown_but_the_coachee_s_own_answers() -> None:
    shown = feedback(listening(), [rater(SELF, 3), rater(MANAGER, 1), rater(PEER, 5, "secret")])
    assert shown.groups == ()
    assert shown.hidden == 2
    assert shown.own is not None and shown.own.scores[0].raw == 3
    assert feedback(listening(), []).own is None


def test_other_raters_always_join_the_others() -> None:
    shown = feedback(listening(), [rater(OTHER, 2) for _ in range(3)])
    assert [(g.group, g.count) for g in shown.groups] == [(OTHERS, 3)]


def test_rater_answers_are_complete_submissions_of_a_known_group() -> None:
    with pytest.raises(InvalidArgument) as refused:
        feedback(listening(), [RaterAnswers("friend", {})])
    assert [f.field for f in refused.value.fields] == ["raters[0].group"]
    with pytest.raises(InvalidArgument) as refused:
        feedback(listening(), [RaterAnswers(PEER, {"listens": 3})])
    assert [f.field for f in refused.value.fields] == ["answers.explains"]


@settings(
    derandomize=True,
    database=None,
    max_examples=150,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(st.sampled_from(RATER_GROUPS), max_size=12))
def test_no_group_under_three_is_ever_shown(groups: list[str]) -> None:
    counts = Counter(groups)
    alone, merged = shown_groups(counts)
    assert all(counts[g] >= MIN_GROUP and g != OTHER for g in alone)
    assert not merged or sum(counts[g] for g in merged) >= MIN_GROUP
    if len(groups) < MIN_GROUP:
        assert (alone, merged) == ((), ())
    shown = feedback(listening(), [rater(g, 3, "words") for g in groups])
    assert all(g.count >= MIN_GROUP for g in shown.groups)
    assert sum(g.count for g in shown.groups) + shown.hidden == len(groups)
    # Each rater is in at most one shown group: no subtraction reveals a hidden one.
    assert len({g.group for g in shown.groups}) == len(shown.groups)
