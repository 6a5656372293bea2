"""360 feedback: what the coachee and coach may see of their raters' answers. Plain Python, no
infrastructure.

Raters are protected by numbers: a rater group's results (scores and free text alike) are shown
only when at least MIN_GROUP raters of it answered. Smaller groups are merged into "others",
which is itself hidden below MIN_GROUP; below MIN_GROUP raters in all, nothing is shown. Free
text never carries a name and is sorted, so its order says nothing of who wrote what or when.
No all-raters total is given: with a hidden group, the total minus the shown groups would
reveal it. The self group (the coachee's own answers) is always shown to coachee and coach.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.kernel.errors import Problem, invalid

from .instruments import FREE_TEXT, Instrument
from .scoring import DimensionScore, check_answers, dimension_score, raw_score

SELF = "self"
MANAGER = "manager"
PEER = "peer"
DIRECT_REPORT = "direct_report"
OTHER = "other"
RATER_GROUPS = (MANAGER, PEER, DIRECT_REPORT, OTHER)
GROUPS = (SELF, *RATER_GROUPS)
OTHERS = "others"  # where groups too small to be shown on their own are merged
MIN_GROUP = 3


@dataclass(frozen=True)
class RaterAnswers:
    """One submitted answer set and the rater's relationship to the coachee; never who."""

    group: str
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class GroupResult:
    group: str
    count: int
    scores: tuple[DimensionScore, ...]  # the mean of the group's raw scores, per dimension
    comments: tuple[tuple[str, tuple[str, ...]], ...]  # (free-text item id, sorted texts)


@dataclass(frozen=True)
class Feedback:
    own: GroupResult | None  # the coachee's self-assessment
    groups: tuple[GroupResult, ...]  # shown rater groups, in GROUPS order, then others
    hidden: int  # raters whose answers are not shown (too few of them): a count only


def feedback(instrument: Instrument, submitted: Sequence[RaterAnswers]) -> Feedback:
    """What the coachee and coach see of submitted answer sets (checked as complete here)."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for index, rater in enumerate(submitted):
        if rater.group not in GROUPS:
            raise invalid(
                **{f"raters[{index}].group": Problem("one of %(groups)s", groups=", ".join(GROUPS))}
            )
        kept = check_answers(instrument, rater.answers, complete=True)
        by_group.setdefault(rater.group, []).append(kept)
    own = by_group.pop(SELF, [])
    shown, merged = shown_groups({g: len(a) for g, a in by_group.items()})
    groups = [_result(instrument, g, by_group[g]) for g in shown]
    if merged:
        groups.append(_result(instrument, OTHERS, [a for g in merged for a in by_group[g]]))
    total = sum(len(a) for a in by_group.values())
    return Feedback(
        _result(instrument, SELF, own) if own else None,
        tuple(groups),
        total - sum(g.count for g in groups),
    )


def shown_groups(counts: Mapping[str, int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Of the rater groups' answer counts: the groups shown on their own, and those merged
    into a shown "others" (empty when others would be too small, or everything is)."""
    counts = {g: n for g, n in counts.items() if n > 0 and g != SELF}
    if sum(counts.values()) < MIN_GROUP:
        return (), ()
    # "other" raters are no group of their own: they always join the others.
    alone = tuple(g for g in RATER_GROUPS if g != OTHER and counts.get(g, 0) >= MIN_GROUP)
    rest = tuple(g for g in RATER_GROUPS if g in counts and g not in alone)
    merged = rest if sum(counts[g] for g in rest) >= MIN_GROUP else ()
    return alone, merged


def _result(instrument: Instrument, group: str, answer_sets: list[dict[str, Any]]) -> GroupResult:
    scores = tuple(
        dimension_score(
            instrument,
            d,
            math.fsum(raw_score(instrument, d, a) for a in answer_sets) / len(answer_sets),
        )
        for d in instrument.dimensions
    )
    comments = tuple(
        (item.id, tuple(sorted(a[item.id] for a in answer_sets if item.id in a)))
        for item in instrument.items
        if item.kind == FREE_TEXT
    )
    return GroupResult(group, len(answer_sets), scores, tuple(c for c in comments if c[1]))
