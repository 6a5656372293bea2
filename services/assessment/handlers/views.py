"""What the service answers: contracts built from the domain and stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

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


# A dimension's title, and a band's label and meaning, by (dimension id, band index).
Texts = dict[tuple[str, int], tuple[c.LineText, c.LineText, c.ParagraphText]]


def results(
    instrument: Instrument, scores: list[dict[str, Any]] | None, texts: Texts | None = None
) -> list[c.DimensionResult]:
    """An attempt's kept scores, with the texts of the version it was scored with. The texts
    are the instrument's, checked when it was read: each dimension's and band's are built once
    (`texts`, shared by an assignment's attempts) and the results are not validated again (an
    assignment's 200 attempts would otherwise spend most of a GetAssignment re-checking them)."""
    texts = {} if texts is None else texts
    found = []
    for s in scores or ():
        key = (s["dimension"], s["band"])
        if key not in texts:
            dimension = instrument.dimension(s["dimension"])
            band = dimension.bands[s["band"]]
            texts[key] = (
                line(dimension.title),
                line(band.label),
                c.ParagraphText(en=band.meaning.en, fr=band.meaning.fr),
            )
        title, label, meaning = texts[key]
        found.append(
            c.DimensionResult.model_construct(
                dimension=s["dimension"],
                title=title,
                score=float(s["score"]),
                raw=float(s["raw"]),
                lowest=float(s["lowest"]),
                highest=float(s["highest"]),
                band=label,
                interpretation=meaning,
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


def attempt_view(
    a: Assignment, attempt: Attempt, *, with_answers: bool, texts: Texts | None = None
) -> c.Attempt:
    return c.Attempt(
        assignment_id=a.id,
        number=attempt.number,
        status=attempt.status,
        started_at=attempt.started_at,
        updated_at=attempt.updated_at,
        submitted_at=attempt.submitted_at,
        answers=dict(attempt.answers) if with_answers else None,
        results=results(a.instrument, attempt.scores, texts),
    )


def dimensions_view(instrument: Instrument) -> list[c.DimensionBands]:
    """The version's dimensions with their bands' texts: an assignment carries them once, and
    its attempts' score values point into them."""
    found = []
    for d in instrument.dimensions:
        lowest, highest = instrument.bounds(d)
        found.append(
            c.DimensionBands(
                dimension=d.id,
                title=line(d.title),
                lowest=lowest,
                highest=highest,
                bands=[
                    c.BandText(
                        lower=b.lower,
                        upper=b.upper,
                        label=line(b.label),
                        meaning=c.ParagraphText(en=b.meaning.en, fr=b.meaning.fr),
                    )
                    for b in d.bands
                ],
            )
        )
    return found


def attempt_summary(attempt: Attempt) -> c.AttemptSummary:
    """State, dates and score values: no answers, no texts. Built without validating again:
    the values are the service's own, kept when the attempt was scored, and an assignment
    lists every attempt, 200 of them and more (bench/assessment.py). The kept scores are
    passed as they are: each also holds its dimension's range, which the reply leaves out (a
    ScoreValue's fields only are serialised; the range is the assignment's `dimensions`)."""
    return c.AttemptSummary.model_construct(
        number=attempt.number,
        status=attempt.status,  # type: ignore[arg-type]  # draft or submitted
        started_at=attempt.started_at,
        updated_at=attempt.updated_at,
        submitted_at=attempt.submitted_at,
        scores=cast(list[c.ScoreValue], attempt.scores or []),
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
        dimensions=dimensions_view(a.instrument),
        attempts=[attempt_summary(t) for t in a.attempts],
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
