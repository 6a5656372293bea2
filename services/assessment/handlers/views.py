"""What the service answers: contracts built from the domain and stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.contracts import assessment as c

from ..adapters.documents import document_of
from ..domain.assignments import Assignment, Attempt
from ..domain.instruments import Instrument, Text
from ..domain.scoring import DimensionScore
from ..storage.instruments import StoredInstrument


def line(text: Text) -> c.LineText:
    return c.LineText(en=text.en, fr=text.fr)


def built_in_view(instrument: Instrument, *, with_document: bool) -> c.Instrument:
    return c.Instrument(
        instrument_id=instrument.slug,
        slug=instrument.slug,
        version=instrument.version,
        title=line(instrument.title),
        built_in=True,
        shared=False,
        document=document_of(instrument) if with_document else None,
    )


def custom_view(stored: StoredInstrument, *, with_document: bool) -> c.Instrument:
    document = c.InstrumentDocument.model_validate(stored.document)
    return c.Instrument(
        instrument_id=stored.instrument_id,
        slug=stored.slug,
        version=stored.version,
        title=document.title,
        built_in=False,
        shared=stored.shared,
        owner_person_id=stored.owner_person_id,
        document=document if with_document else None,
    )


def results(instrument: Instrument, scores: list[dict[str, Any]] | None) -> list[c.DimensionResult]:
    """An attempt's kept scores, with the texts of the version it was scored with."""
    found = []
    for s in scores or ():
        dimension = instrument.dimension(s["dimension"])
        band = dimension.bands[s["band"]]
        found.append(
            c.DimensionResult(
                dimension=dimension.id,
                title=line(dimension.title),
                score=s["score"],
                raw=s["raw"],
                lowest=s["lowest"],
                highest=s["highest"],
                band=line(band.label),
                interpretation=c.ParagraphText(en=band.meaning.en, fr=band.meaning.fr),
            )
        )
    return found


def results_of_scores(
    instrument: Instrument, scores: Sequence[DimensionScore]
) -> list[c.DimensionResult]:
    """Scores computed now (a 360 group's means), with their bands' texts."""
    return [
        c.DimensionResult(
            dimension=s.dimension,
            title=line(instrument.dimension(s.dimension).title),
            score=s.normalised,
            raw=s.raw,
            lowest=s.lowest,
            highest=s.highest,
            band=line(s.band.label),
            interpretation=c.ParagraphText(en=s.band.meaning.en, fr=s.band.meaning.fr),
        )
        for s in scores
    ]


def attempt_view(a: Assignment, attempt: Attempt, *, with_answers: bool) -> c.Attempt:
    return c.Attempt(
        assignment_id=a.id,
        number=attempt.number,
        status=attempt.status,
        started_at=attempt.started_at,
        updated_at=attempt.updated_at,
        submitted_at=attempt.submitted_at,
        answers=dict(attempt.answers) if with_answers else None,
        results=results(a.instrument, attempt.scores),
    )


def assignment_view(a: Assignment) -> c.Assignment:
    return c.Assignment(
        assignment_id=a.id,
        tenant_id=a.tenant_id,
        space_id=a.space_id,
        instrument_id=a.instrument_id,
        slug=a.instrument.slug,
        version=a.instrument.version,
        title=line(a.instrument.title),
        status=a.status,
        attempts_allowed=a.attempts_allowed,
        assigned_by_person_id=a.assigned_by_person_id,
        created_at=a.created_at,
        updated_at=a.updated_at,
        attempts=[attempt_view(a, t, with_answers=False) for t in a.attempts],
    )


def event_of(kind: type[c.AssignmentEvent], a: Assignment, **extra: Any) -> c.AssignmentEvent:
    """Ids and state only: never answers nor scores."""
    return kind(
        assignment_id=a.id,
        tenant_id=a.tenant_id,
        space_id=a.space_id,
        instrument_id=a.instrument_id,
        instrument_slug=a.instrument.slug,
        instrument_version=a.instrument.version,
        status=a.status,
        attempts_allowed=a.attempts_allowed,
        updated_at=a.updated_at,
        **extra,
    )
