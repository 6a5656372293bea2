"""Answers to an instrument, checked and scored; the trend of a person's scores over attempts.
Plain Python, no infrastructure.

An answer set maps item ids to values: a whole number (likert), a number (numeric scale), an
option key (single choice), a list of option keys (multiple choice: those chosen; ranking: all
of them, first ranked first), or text (free text). A draft may leave items out; a submission
answers every required item. Scores are per dimension: the raw score, its bounds, a 0-100
normalised score (so versions and dimensions compare) and the band it falls in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.kernel.errors import Problem, invalid
from services.kernel.i18n import N_

from .instruments import (
    EPSILON,
    FREE_TEXT,
    LIKERT,
    MULTIPLE_CHOICE,
    NUMERIC_SCALE,
    RANKING,
    SINGLE_CHOICE,
    SUM,
    WEIGHTED,
    Band,
    Dimension,
    Instrument,
    Item,
)

Answers = Mapping[str, Any]


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    raw: float
    lowest: float
    highest: float
    normalised: float  # 0 to 100: where `raw` lies between `lowest` and `highest`
    band: Band


@dataclass(frozen=True)
class Result:
    """An attempt's scores, with the instrument version they were scored with."""

    slug: str
    version: int
    scores: tuple[DimensionScore, ...]

    def score_of(self, dimension: str) -> DimensionScore | None:
        return next((s for s in self.scores if s.dimension == dimension), None)

    def normalised(self) -> tuple[tuple[str, float], ...]:
        """(dimension, 0-100 score) of each dimension, in order: what a trend follows."""
        return tuple((s.dimension, s.normalised) for s in self.scores)


def check_answers(instrument: Instrument, answers: Answers, *, complete: bool) -> dict[str, Any]:
    """The answers as kept (free text stripped, empty answers left out) when each fits its item;
    with `complete`, every required item must be answered. Otherwise InvalidArgument naming
    each bad answer as `answers.<item id>`."""
    items = {i.id: i for i in instrument.items}
    problems: dict[str, str] = {}
    kept: dict[str, Any] = {}
    for item_id, value in answers.items():
        item = items.get(item_id)
        name = f"answers.{item_id}"
        if item is None:
            problems[name] = N_("is not an item of this instrument")
            continue
        if _unanswered(value):
            continue  # not answered (yet)
        problem = _answer_problem(item, value)
        if problem:
            problems[name] = problem
        else:
            kept[item_id] = value.strip() if isinstance(value, str) else value
    if complete:
        for item in instrument.items:
            if item.required and item.id not in kept and f"answers.{item.id}" not in problems:
                problems[f"answers.{item.id}"] = N_("is required")
    if problems:
        raise invalid(**problems)
    return kept


def _unanswered(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | tuple) and not value)


def _answer_problem(item: Item, value: Any) -> str | None:
    if item.kind in (LIKERT, NUMERIC_SCALE):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return N_("must be a number")
        within = item.scale_min - EPSILON <= value <= item.scale_max + EPSILON
        if not math.isfinite(value) or not within:
            return Problem(
                "from %(low)s to %(high)s", low=_plain(item.scale_min), high=_plain(item.scale_max)
            )
        step = 1 if item.kind == LIKERT else item.step  # a likert scale's points are whole
        steps = (value - item.scale_min) / step
        if abs(steps - round(steps)) > EPSILON:
            return Problem("in steps of %(step)s", step=_plain(step))
        return None
    keys = [o.key for o in item.options]
    if item.kind == SINGLE_CHOICE:
        return None if isinstance(value, str) and value in keys else N_("is not one of the options")
    if item.kind in (MULTIPLE_CHOICE, RANKING):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return N_("must be a list of option keys")
        if len(set(value)) != len(value) or not set(value) <= set(keys):
            return N_("options of this item, each once")
        if item.kind == RANKING and len(value) != len(keys):
            return N_("must rank every option")
        return None
    if item.kind == FREE_TEXT:
        if not isinstance(value, str):
            return N_("must be text")
        if len(value.strip()) > item.max_length:
            return Problem("at most %(n)s characters", n=item.max_length)
    return None


def item_points(item: Item, value: Any, reverse: bool = False) -> float:
    """What a (checked) answer scores; reversed, the mirror of it within the item's bounds."""
    if item.kind in (LIKERT, NUMERIC_SCALE):
        points = float(value)
    elif item.kind == SINGLE_CHOICE:
        points = next(o.value for o in item.options if o.key == value)
    elif item.kind == MULTIPLE_CHOICE:
        points = math.fsum(o.value for o in item.options if o.key in value)
    else:
        raise ValueError(f"{item.kind} items are not scored")
    if reverse:
        low, high = item.bounds()
        return low + high - points
    return points


def raw_score(instrument: Instrument, dimension: Dimension, answers: Answers) -> float:
    """The dimension's raw score from a complete, checked answer set."""
    points, weights = [], []
    for item_id in dimension.items:
        value = item_points(
            instrument.item(item_id), answers[item_id], item_id in dimension.reversed_items
        )
        weight = dimension.weight_of(item_id) if dimension.method == WEIGHTED else 1.0
        points.append(value * weight)
        weights.append(weight)
    total = math.fsum(points)
    return total if dimension.method == SUM else total / math.fsum(weights)


def dimension_score(instrument: Instrument, dimension: Dimension, raw: float) -> DimensionScore:
    low, high = instrument.bounds(dimension)
    raw = min(max(raw, low), high)  # rounding must never step outside the bounds
    normalised = min(max((raw - low) / (high - low) * 100, 0.0), 100.0)
    return DimensionScore(dimension.id, raw, low, high, normalised, dimension.band_for(raw))


def score(instrument: Instrument, answers: Answers) -> Result:
    """A submission's scores: its answers are checked as complete first."""
    kept = check_answers(instrument, answers, complete=True)
    return Result(
        instrument.slug,
        instrument.version,
        tuple(
            dimension_score(instrument, d, raw_score(instrument, d, kept))
            for d in instrument.dimensions
        ),
    )


@dataclass(frozen=True)
class Trend:
    """One dimension over attempts: (submitted_at, normalised score), oldest first, and the
    change from the first to the last (0 with a single attempt)."""

    dimension: str
    points: tuple[tuple[datetime, float], ...]

    @property
    def change(self) -> float:
        return self.points[-1][1] - self.points[0][1] if self.points else 0.0


def trend(attempts: Sequence[tuple[datetime, Sequence[tuple[str, float]]]]) -> tuple[Trend, ...]:
    """Per dimension, in the order of the latest attempt's dimensions (then any a past version
    had), the normalised scores of every attempt that scored it: normalised, so attempts
    scored with different versions of an instrument still compare. Each attempt is given as
    when it was submitted and its (dimension, normalised score) pairs (`Result.normalised()`,
    or the kept scores of a stored attempt)."""
    ordered = sorted(attempts, key=lambda a: a[0])
    # dict keys keep their first insertion's order: the latest attempt's dimensions first
    names: dict[str, list[tuple[datetime, float]]] = {}
    for _, scores in reversed(ordered):
        for dimension, _value in scores:
            names.setdefault(dimension, [])
    for at, scores in ordered:  # once over the attempts, however many (a benchmark has 200)
        for dimension, value in scores:
            names[dimension].append((at, value))
    return tuple(Trend(name, tuple(points)) for name, points in names.items())


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
