"""An instrument: a questionnaire (a coaching tool, a test, a quiz), its items, the dimensions it
scores and the bands that interpret a dimension's score. Plain Python, no infrastructure.

An instrument is an immutable value identified by its slug and version: a change is a new
Instrument with version + 1 (`next_version`), so an attempt scored with version 3 keeps meaning
what it meant. What a person reads is in the instrument's own data, in French and English
(`Text`), not in the message catalogues: coaches and publishers write it.

`check()` says what is wrong with an instrument, naming each bad field as the document format
names it (services/contracts/assessment.py): `items[2].options`, `dimensions[0].bands`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from services.kernel.errors import Problem, invalid
from services.kernel.i18n import N_

LIKERT = "likert"
SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
NUMERIC_SCALE = "numeric_scale"
RANKING = "ranking"
FREE_TEXT = "free_text"
ITEM_KINDS = (LIKERT, SINGLE_CHOICE, MULTIPLE_CHOICE, NUMERIC_SCALE, RANKING, FREE_TEXT)
# A ranking's answer is an order and free text is words: they are reported, never scored.
SCORED_KINDS = (LIKERT, SINGLE_CHOICE, MULTIPLE_CHOICE, NUMERIC_SCALE)
CHOICE_KINDS = (SINGLE_CHOICE, MULTIPLE_CHOICE, RANKING)

SUM, MEAN, WEIGHTED = "sum", "mean", "weighted"
METHODS = (SUM, MEAN, WEIGHTED)

MAX_ITEMS = 200
MAX_OPTIONS = 30
MAX_LIKERT_POINTS = 11
MAX_NUMERIC_POINTS = 1001
MAX_FREE_TEXT = 4000
# Band edges are written by people (2.5) and bounds are computed (7/3): equal within this.
EPSILON = 1e-9


@dataclass(frozen=True)
class Text:
    """A text a person reads, in both languages of the platform."""

    en: str
    fr: str

    def in_language(self, language: str) -> str:
        return self.fr if language.lower().startswith("fr") else self.en

    @property
    def complete(self) -> bool:
        return bool(self.en.strip() and self.fr.strip())


@dataclass(frozen=True)
class Option:
    """A choice of a single-choice, multiple-choice or ranking item; `value` is what choosing it
    scores (a ranking's options need none)."""

    key: str
    label: Text
    value: float = 0


@dataclass(frozen=True)
class Item:
    """One question. Which fields matter depends on `kind`:

    - likert: `scale_min`..`scale_max` (whole numbers), one label per point in `labels`;
    - single_choice, multiple_choice: `options`, each with its value (multiple: values add up);
    - numeric_scale: `scale_min`..`scale_max` by `step`;
    - ranking: `options` to put in order (all of them);
    - free_text: at most `max_length` characters.
    """

    id: str
    kind: str
    prompt: Text
    required: bool = True
    scale_min: float = 0
    scale_max: float = 0
    step: float = 1
    labels: tuple[Text, ...] = ()
    options: tuple[Option, ...] = ()
    max_length: int = 0

    @property
    def scored(self) -> bool:
        return self.kind in SCORED_KINDS

    def bounds(self) -> tuple[float, float]:
        """The lowest and highest points an answer to this item can score."""
        if self.kind in (LIKERT, NUMERIC_SCALE):
            return float(self.scale_min), float(self.scale_max)
        values = [o.value for o in self.options]
        if self.kind == SINGLE_CHOICE:
            return min(values), max(values)
        if self.kind == MULTIPLE_CHOICE:
            return sum(v for v in values if v < 0), sum(v for v in values if v > 0)
        return 0.0, 0.0

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)


@dataclass(frozen=True)
class Band:
    """An interpretation of a dimension's raw score from `lower` (included) up to `upper`
    (excluded, except for the last band, which includes the dimension's maximum)."""

    lower: float
    upper: float
    label: Text
    meaning: Text

    def holds(self, score: float, last: bool) -> bool:
        if score < self.lower - EPSILON:
            return False
        return score <= self.upper + EPSILON if last else score < self.upper - EPSILON


@dataclass(frozen=True)
class Dimension:
    """What a set of items measures together. `method`: the items' points added up (sum), their
    average (mean), or their average weighted by `weights` (item id -> weight; 1 when not given).
    An item in `reversed_items` scores min + max - value: agreeing with "I rarely rest" says
    the same as disagreeing with "I rest enough"."""

    id: str
    title: Text
    items: tuple[str, ...]
    bands: tuple[Band, ...]
    method: str = SUM
    weights: tuple[tuple[str, float], ...] = ()
    reversed_items: frozenset[str] = field(default_factory=frozenset)

    def weight_of(self, item_id: str) -> float:
        return next((w for i, w in self.weights if i == item_id), 1.0)

    def band_for(self, score: float) -> Band:
        last = len(self.bands) - 1
        for index, band in enumerate(self.bands):
            if band.holds(score, index == last):
                return band
        # check() makes the bands cover every score the items allow: this is a bug, not input.
        raise ValueError(f"no band of {self.id} holds {score}")


@dataclass(frozen=True)
class Instrument:
    slug: str
    version: int
    title: Text
    description: Text
    items: tuple[Item, ...]
    dimensions: tuple[Dimension, ...]

    @property
    def key(self) -> tuple[str, int]:
        return self.slug, self.version

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def dimension(self, dimension_id: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == dimension_id)

    def bounds(self, dimension: Dimension) -> tuple[float, float]:
        """The lowest and highest raw score the dimension's items allow."""
        lows, highs, weights = [], [], []
        for item_id in dimension.items:
            low, high = self.item(item_id).bounds()
            weight = dimension.weight_of(item_id) if dimension.method == WEIGHTED else 1.0
            lows.append(low * weight)
            highs.append(high * weight)
            weights.append(weight)
        if dimension.method == SUM:
            return math.fsum(lows), math.fsum(highs)
        total = math.fsum(weights)
        return math.fsum(lows) / total, math.fsum(highs) / total

    def next_version(self, **changes: Any) -> Instrument:
        """This instrument changed: a new value with the next version, checked."""
        return replace(self, version=self.version + 1, **changes).check()

    def check(self) -> Instrument:
        """This instrument when it is whole and consistent; otherwise InvalidArgument naming
        every bad field."""
        problems: dict[str, str] = {}
        if not _is_slug(self.slug):
            problems["slug"] = N_("lowercase letters, digits and inner hyphens, 2 to 64")
        if self.version < 1:
            problems["version"] = N_("must be 1 or more")
        _check_text(self.title, "title", problems)
        _check_text(self.description, "description", problems)
        if not self.items:
            problems["items"] = N_("must not be empty")
        elif len(self.items) > MAX_ITEMS:
            problems["items"] = Problem("at most %(n)s", n=MAX_ITEMS)
        seen: set[str] = set()
        for index, item in enumerate(self.items):
            name = f"items[{index}]"
            if item.id in seen:
                problems[name + ".id"] = N_("each id once")
            seen.add(item.id)
            _check_item(item, name, problems)
        if not self.dimensions and any(i.scored for i in self.items):
            problems["dimensions"] = N_("scored items need a dimension")
        dimension_ids: set[str] = set()
        for index, dimension in enumerate(self.dimensions):
            name = f"dimensions[{index}]"
            if dimension.id in dimension_ids or not _is_key(dimension.id):
                problems[name + ".id"] = N_("each id once, of letters, digits, - and _")
            dimension_ids.add(dimension.id)
            self._check_dimension(dimension, name, problems)
        if problems:
            raise invalid(**problems)
        return self

    def _check_dimension(self, dimension: Dimension, name: str, problems: dict[str, str]) -> None:
        _check_text(dimension.title, name + ".title", problems)
        if dimension.method not in METHODS:
            problems[name + ".method"] = N_("sum, mean or weighted")
        items = {i.id: i for i in self.items}
        if not dimension.items or len(set(dimension.items)) != len(dimension.items):
            problems[name + ".items"] = N_("one or more items, each once")
            return
        if any(i not in items or not items[i].scored for i in dimension.items):
            problems[name + ".items"] = N_("likert, choice or numeric items of this instrument")
            return
        if any(not items[i].required for i in dimension.items):
            problems[name + ".items"] = N_("a scored item must be required")
            return
        if not dimension.reversed_items <= set(dimension.items):
            problems[name + ".reversed"] = N_("items of this dimension")
        weighted = dict(dimension.weights)
        if len(weighted) != len(dimension.weights) or not set(weighted) <= set(dimension.items):
            problems[name + ".weights"] = N_("items of this dimension, each once")
        elif any(not (w > 0 and math.isfinite(w)) for w in weighted.values()):
            problems[name + ".weights"] = N_("must be more than 0")
        elif weighted and dimension.method != WEIGHTED:
            problems[name + ".weights"] = N_("only for the weighted method")
        if any(k.startswith((name + ".", "items")) for k in problems):
            return  # bounds need sound items and weights
        _check_bands(dimension, self.bounds(dimension), name + ".bands", problems)


def _check_bands(
    dimension: Dimension, bounds: tuple[float, float], name: str, problems: dict[str, str]
) -> None:
    """The bands cover the dimension's range in order, each starting where the one before
    ends: no score without a band, none with two."""
    low, high = bounds
    if high - low < EPSILON:
        problems[name] = N_("the items leave no room between the lowest and highest score")
        return
    if not dimension.bands:
        problems[name] = N_("must not be empty")
        return
    expected = low
    for index, band in enumerate(dimension.bands):
        _check_text(band.label, f"{name}[{index}].label", problems)
        _check_text(band.meaning, f"{name}[{index}].meaning", problems)
        if abs(band.lower - expected) > EPSILON:
            problems[f"{name}[{index}].from"] = Problem(
                "must be %(expected)s, where the range or the band before ends",
                expected=_number(expected),
            )
            return
        if band.upper <= band.lower + EPSILON:
            problems[f"{name}[{index}].to"] = N_("must be more than from")
            return
        expected = band.upper
    if abs(expected - high) > EPSILON:
        problems[f"{name}[{len(dimension.bands) - 1}].to"] = Problem(
            "must be %(expected)s, the highest score", expected=_number(high)
        )


def _check_item(item: Item, name: str, problems: dict[str, str]) -> None:
    if not _is_key(item.id):
        problems[name + ".id"] = N_("letters, digits, - and _, 1 to 64")
    if item.kind not in ITEM_KINDS:
        problems[name + ".kind"] = Problem("one of %(kinds)s", kinds=", ".join(ITEM_KINDS))
        return
    _check_text(item.prompt, name + ".prompt", problems)
    if item.kind == LIKERT:
        points = item.scale_max - item.scale_min + 1
        if not (_whole(item.scale_min) and _whole(item.scale_max) and 2 <= points):
            problems[name + ".max"] = N_("whole numbers, at least two points")
        elif points > MAX_LIKERT_POINTS:
            problems[name + ".max"] = Problem("at most %(n)s points", n=MAX_LIKERT_POINTS)
        elif len(item.labels) != points:
            problems[name + ".labels"] = Problem("one label per point: %(n)s", n=int(points))
        for index, label in enumerate(item.labels):
            _check_text(label, f"{name}.labels[{index}]", problems)
    elif item.kind == NUMERIC_SCALE:
        span = item.scale_max - item.scale_min
        if not all(math.isfinite(v) for v in (item.scale_min, item.scale_max, item.step)):
            problems[name + ".max"] = N_("must be a number")
        elif item.step <= 0 or span <= 0 or not _whole(span / item.step):
            problems[name + ".step"] = N_("more than 0, and max - min a whole number of steps")
        elif span / item.step + 1 > MAX_NUMERIC_POINTS:
            problems[name + ".step"] = Problem("at most %(n)s points", n=MAX_NUMERIC_POINTS)
    elif item.kind in CHOICE_KINDS:
        keys = [o.key for o in item.options]
        if not 2 <= len(keys) <= MAX_OPTIONS or len(set(keys)) != len(keys):
            problems[name + ".options"] = Problem(
                "2 to %(n)s options, each key once", n=MAX_OPTIONS
            )
        if any(not _is_key(k) for k in keys):
            problems[name + ".options"] = N_("letters, digits, - and _, 1 to 64")
        if any(not math.isfinite(o.value) for o in item.options):
            problems[name + ".options"] = N_("must be a number")
        for index, option in enumerate(item.options):
            _check_text(option.label, f"{name}.options[{index}].label", problems)
    elif item.kind == FREE_TEXT and not 1 <= item.max_length <= MAX_FREE_TEXT:
        problems[name + ".max_length"] = Problem("between 1 and %(n)s", n=MAX_FREE_TEXT)


def _check_text(text: Text, name: str, problems: dict[str, str]) -> None:
    if not text.complete:
        problems[name] = N_("needs French and English text")


def _is_key(value: str) -> bool:
    return 1 <= len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


def _is_slug(value: str) -> bool:
    return (
        2 <= len(value) <= 64
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in value)
        and not value.startswith("-")
        and not value.endswith("-")
    )


def _whole(value: float) -> bool:
    return math.isfinite(value) and abs(value - round(value)) < EPSILON


def _number(value: float) -> str:
    return str(round(value)) if _whole(value) else f"{value:.4g}"
