"""A space's questionnaires (the assessment service, ADR 0014) as the web app shows them, shared by
the coach's and the coachee's pages: the space's assignments and the instruments a coach may
assign, an instrument's items read from its document (the published format,
docs/schemas/instrument.schema.json), the answer form read back into the API's answers (and
what was typed, to show again), an attempt's results from its assignment (score values, and
the band texts the assignment gives once), one attempt's answers in words, and the trend
drawn with the goals' charts (charts.py).

Who sees what is the service's to decide: the space's coachee, coach and co-coach; anyone else
gets NOT_FOUND, which the pages turn into the 404 page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import grpc

from gateway.api.pb import assessment_pb2 as apb

from .charts import Chart, Point, chart
from .clients import authed
from .i18n import _, language
from .pages import clients

# Listed on a page at once (a space has few assignments; the catalogue and a coach's own
# instruments, a few dozen).
LISTED = 200
# Statuses in which the coachee may still answer.
OPEN = (apb.ASSIGNED, apb.IN_PROGRESS, apb.RETAKE_ALLOWED)


def text(localized: apb.LocalizedText) -> str:
    """A text of the service in the page's language (English when it has no French)."""
    return (localized.fr if language() == "fr" else localized.en) or localized.en


def doc_text(localized: Any) -> str:
    """A text of an instrument's document (`{"en": ..., "fr": ...}`) in the page's language."""
    if not isinstance(localized, dict):
        return ""
    return str(localized.get(language()) or localized.get("en") or "")


def status_label(status: int) -> str:
    return {
        apb.ASSIGNED: _("To answer"),
        apb.IN_PROGRESS: _("Draft saved"),
        apb.SUBMITTED: _("Submitted"),
        apb.RETAKE_ALLOWED: _("Retake allowed"),
    }.get(status, "")


def assignments_of(space_name: str) -> list[apb.Assignment]:
    """The space's assignments, oldest first; none while the assessment service does not know
    the space yet (it learns of spaces from their events) or when it is not one to show."""
    try:
        reply = authed(
            clients(),
            clients().assessment.ListAssignments,
            apb.ListAssignmentsRequest(parent=space_name, page_size=LISTED),
        )
    except grpc.RpcError as exc:
        if exc.code() in (  # type: ignore[attr-defined]
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.FAILED_PRECONDITION,
        ):
            return []
        raise
    return list(reply.assignments)


def instrument_choices() -> list[tuple[str, str]]:
    """(instrument id, title) of what the coach may assign: the catalogue, then their own and
    their tenant's shared instruments."""
    reply = authed(
        clients(),
        clients().assessment.ListInstruments,
        apb.ListInstrumentsRequest(page_size=LISTED),
    )
    return [(i.instrument_id, text(i.title)) for i in reply.instruments]


def submitted_count(assignment: apb.Assignment) -> int:
    return sum(1 for a in assignment.attempts if a.status == apb.ATTEMPT_SUBMITTED)


def last_submitted(assignment: apb.Assignment) -> apb.AttemptSummary | None:
    done = [a for a in assignment.attempts if a.status == apb.ATTEMPT_SUBMITTED]
    return done[-1] if done else None


# ------------------------------------------------------------------------------ the items


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    prompt: str
    required: bool
    # single_choice, multiple_choice, ranking: (key, label); likert: (value, label).
    options: list[tuple[str, str]] = field(default_factory=list)
    low: float = 0
    high: float = 0
    step: float = 1
    max_length: int = 0


def number(value: float) -> str:
    return f"{value:g}"


def items_of(document_json: str) -> list[Item]:
    """The items of an instrument's document, in its order."""
    try:
        document = json.loads(document_json)
    except ValueError:
        return []
    items = []
    for raw in document.get("items", []) if isinstance(document, dict) else []:
        kind = raw.get("kind", "")
        low, high = float(raw.get("min", 0) or 0), float(raw.get("max", 0) or 0)
        if kind == "likert":
            labels = [doc_text(label) for label in raw.get("labels", [])]
            points = [low + i for i in range(int(high - low) + 1)]
            options = [
                (number(p), labels[i] if i < len(labels) else number(p))
                for i, p in enumerate(points)
            ]
        else:
            options = [(o.get("key", ""), doc_text(o.get("label"))) for o in raw.get("options", [])]
        items.append(
            Item(
                id=str(raw.get("id", "")),
                kind=kind,
                prompt=doc_text(raw.get("prompt")),
                required=bool(raw.get("required", True)),
                options=options,
                low=low,
                high=high,
                step=float(raw.get("step", 1) or 1),
                max_length=int(raw.get("max_length", 0) or 0),
            )
        )
    return items


def instrument_items(assignment: apb.Assignment) -> list[Item] | None:
    """The items of the instrument's version the assignment uses (read through the assignment,
    so a coach's private instrument too); None when the service shows it not."""
    try:
        found = authed(
            clients(),
            clients().assessment.GetInstrument,
            apb.GetInstrumentRequest(
                instrument_id=assignment.instrument_id,
                version=assignment.version,
                assignment_id=assignment.assignment_id,
            ),
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return None
        raise
    return items_of(found.document_json)


# ------------------------------------------------------------------- the form and answers

Typed = dict[str, Any]


def read_answers(
    form: Any, items: list[Item]
) -> tuple[dict[str, apb.Answer], Typed, dict[str, str]]:
    """The answers in the form (an item left blank is not answered), what was typed (to show
    again) and each item's problem the page can tell before any call."""
    answers: dict[str, apb.Answer] = {}
    typed: Typed = {}
    errors: dict[str, str] = {}
    for item in items:
        name = f"item-{item.id}"
        if item.kind == "multiple_choice":
            keys = [k for k in form.getlist(name) if k]
            typed[item.id] = keys
            if keys:
                answers[item.id] = apb.Answer(choices=apb.Choices(keys=keys))
        elif item.kind == "ranking":
            ranks = {key: form.get(f"{name}-{key}", "").strip() for key, _label in item.options}
            typed[item.id] = ranks
            given = [r for r in ranks.values() if r]
            if not given:
                continue
            wanted = {str(i) for i in range(1, len(item.options) + 1)}
            if len(given) != len(ranks) or set(given) != wanted:
                errors[item.id] = _("Give each option a different rank, from 1 to %(count)s.") % {
                    "count": len(item.options)
                }
                continue
            order = sorted(ranks, key=lambda key: int(ranks[key]))
            answers[item.id] = apb.Answer(choices=apb.Choices(keys=order))
        elif item.kind in ("likert", "numeric_scale"):
            value = form.get(name, "").strip().replace(",", ".")
            typed[item.id] = value
            if not value:
                continue
            try:
                answers[item.id] = apb.Answer(number=float(value))
            except ValueError:
                errors[item.id] = _("Write a number.")
        else:  # single_choice, free_text
            value = form.get(name, "")
            value = value.strip() if item.kind == "single_choice" else value
            typed[item.id] = value
            if value.strip():
                answers[item.id] = apb.Answer(text=value)
    return answers, typed, errors


def typed_of(attempt: apb.Attempt, items: list[Item]) -> Typed:
    """A kept attempt's answers as the form shows them."""
    typed: Typed = {}
    for item in items:
        if item.id not in attempt.answers:
            continue
        answer = attempt.answers[item.id]
        kind = answer.WhichOneof("value")
        if item.kind == "ranking" and kind == "choices":
            typed[item.id] = {k: str(i) for i, k in enumerate(answer.choices.keys, start=1)}
        elif kind == "choices":
            typed[item.id] = list(answer.choices.keys)
        elif kind == "number":
            typed[item.id] = number(answer.number)
        elif kind == "text":
            typed[item.id] = answer.text
    return typed


def answer_words(item: Item, answer: apb.Answer) -> str:
    """An answer as a person reads it."""
    labels = dict(item.options)
    kind = answer.WhichOneof("value")
    if kind == "number":
        shown = number(answer.number)
        label = labels.get(shown, shown) if item.kind == "likert" else shown
        return label if label == shown else f"{shown} ({label})"
    if kind == "choices":
        words = [labels.get(k, k) for k in answer.choices.keys]
        return " > ".join(words) if item.kind == "ranking" else ", ".join(words)
    if kind == "text":
        return labels.get(answer.text, answer.text) if item.kind == "single_choice" else answer.text
    return ""


# --------------------------------------------------------------- results and their trend


def submitted_attempts(assignment: apb.Assignment) -> list[apb.AttemptSummary]:
    """The submitted attempts as the assignment lists them, oldest first."""
    return [a for a in assignment.attempts if a.status == apb.ATTEMPT_SUBMITTED]


@dataclass(frozen=True)
class Result:
    """One dimension of an attempt's results, with its texts."""

    dimension: str
    title: apb.LocalizedText
    score: float  # 0 to 100
    band: apb.LocalizedText
    interpretation: apb.LocalizedText


def results_of(assignment: apb.Assignment, attempt: apb.AttemptSummary) -> list[Result]:
    """An attempt's results from the assignment alone: the attempt's score values, and the
    texts the assignment gives once for every attempt (its `dimensions`)."""
    dimensions = {d.dimension: d for d in assignment.dimensions}
    found = []
    for s in attempt.scores:
        dimension = dimensions.get(s.dimension)
        if dimension is None or not 0 <= s.band < len(dimension.bands):
            continue
        band = dimension.bands[s.band]
        found.append(Result(s.dimension, dimension.title, s.score, band.label, band.meaning))
    return found


@dataclass(frozen=True)
class SubmittedAttempt:
    attempt: apb.Attempt
    # (prompt, answer in words) of each answered item, in the instrument's order.
    answers: list[tuple[str, str]]


def attempt_answers(assignment: apb.Assignment, number: int, items: list[Item]) -> SubmittedAttempt:
    """One attempt whole (GetAttempt) with its answers in words: one call, whatever the
    number of attempts."""
    attempt = authed(
        clients(),
        clients().assessment.GetAttempt,
        apb.GetAttemptRequest(assignment_id=assignment.assignment_id, number=number),
    )
    words = [
        (item.prompt, answer_words(item, attempt.answers[item.id]))
        for item in items
        if item.id in attempt.answers
    ]
    return SubmittedAttempt(attempt, words)


@dataclass(frozen=True)
class TrendLine:
    dimension: str
    title: str
    chart: Chart | None
    change: float


def trend_of(assignment: apb.Assignment) -> list[TrendLine]:
    """Each dimension's score over the submitted attempts, drawn; none before the first."""
    if not submitted_count(assignment):
        return []
    trend = authed(
        clients(),
        clients().assessment.GetTrend,
        apb.GetTrendRequest(assignment_id=assignment.assignment_id),
    )
    lines = []
    for line in trend.dimensions:
        points = [Point(p.submit_time.ToDatetime(tzinfo=UTC), round(p.score)) for p in line.points]
        lines.append(TrendLine(line.dimension, text(line.title), chart(points), line.change))
    return lines
