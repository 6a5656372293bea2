"""Assessment's handlers on its real database: a coach assigns the wheel of life in an active
space, the coachee drafts and submits (answers sealed with the assignment's data key, scores in
clear), the coach allows a retake, the trend shows both attempts; a former coach, another coach
and another tenant see nothing; the coachee's export holds their answers, a tenant key rotation
moves the data keys and the answers still open, and the coachee's erasure deletes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.assessment.domain.assignments import SpaceCopy
from services.assessment.handlers import assignments, instruments, keys, personal_data, spaces
from services.assessment.storage.spaces import Spaces
from services.assessment.storage.tables import assignments as assignment_rows
from services.assessment.storage.tables import attempts as attempt_rows
from services.assessment.storage.unit import AssessmentUnit
from services.contracts import assessment as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.errors import DomainError
from services.kernel.ids import new_id
from services.kernel.runtime.sql import WorkerDatabase, make_engine

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
WHEEL = {
    "health": 7,
    "work": 5,
    "money": 6,
    "relationships": 8,
    "family": 9,
    "friends": 4,
    "growth": 6,
    "leisure": 3,
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db(clock: FixedClock) -> Iterator[WorkerDatabase[AssessmentUnit]]:
    engine = make_engine(settings().database_url_for("assessment"), pool_size=2)
    database = WorkerDatabase(engine, clock, unit=AssessmentUnit)
    yield database
    database.close()
    engine.dispose()


@pytest.fixture
def master() -> MasterKey:
    return master_key_from(settings())


def person(person_id: str, tenant_id: str, *roles: str) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", START, START + timedelta(1))


def operator() -> PersonClaims:
    return PersonClaims(new_id("per"), None, (), True, "tok", START, START + timedelta(1))


def space_event(kind: type[sc.SpaceEvent], copy: SpaceCopy, **changes: object) -> sc.SpaceEvent:
    data = {
        "space_id": copy.space_id,
        "tenant_id": copy.tenant_id,
        "status": copy.status,
        "coachee_person_id": copy.coachee_person_id,
        "coach_person_id": copy.coach_person_id,
        "co_coach_person_id": copy.co_coach_person_id,
        "cadence": "weekly",
        "sessions_planned": 10,
        "starts_on": START.date(),
        "updated_at": copy.updated_at,
        **changes,
    }
    return kind.model_validate(data)


def refused(reason: str, call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.reason == reason, caught.value
    return caught.value


def test_an_assignment_answered_twice_with_a_trend_and_nobody_else_sees_it(
    db: WorkerDatabase[AssessmentUnit], master: MasterKey, clock: FixedClock
) -> None:
    tenant = new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    coachee = person(new_id("per"), tenant, "coachee")
    other_coach = person(new_id("per"), tenant, "coach")
    stranger = person(coachee.person_id, new_id("tnt"), "coachee")  # another tenant's token
    copy = SpaceCopy(
        new_id("spc"), tenant, "active", coachee.person_id, coach.person_id, None, START
    )
    with db.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated, copy))

    assigned = assignments.assign_instrument(
        db,
        master,
        coach,
        c.AssignInstrumentRequest(space_id=copy.space_id, instrument_id="wheel-of-life"),
    )
    assert (assigned.status, assigned.version, assigned.attempts_allowed) == ("assigned", 1, 1)
    ref = c.AssignmentRef(assignment_id=assigned.assignment_id)

    draft = assignments.save_draft(
        db,
        master,
        coachee,
        c.AnswersRequest(assignment_id=ref.assignment_id, answers={"health": 7}),
    )
    assert (draft.status, draft.answers, draft.results) == ("draft", {"health": 7}, [])
    # A coach never sees a draft's answers.
    refused(
        "ASSIGNMENT_NOT_FOUND",
        assignments.get_attempt,
        db,
        master,
        coach,
        c.AttemptRef(assignment_id=ref.assignment_id, number=1),
    )
    bad = refused(
        "INVALID_ARGUMENT",
        assignments.submit_attempt,
        db,
        master,
        coachee,
        c.AnswersRequest(assignment_id=ref.assignment_id, answers={"health": 11}),
    )
    assert "answers.health" in {f.field for f in bad.fields}

    first = assignments.submit_attempt(
        db, master, coachee, c.AnswersRequest(assignment_id=ref.assignment_id, answers=WHEEL)
    )
    assert first.status == "submitted" and first.submitted_at == START
    health = next(r for r in first.results if r.dimension == "health")
    assert health.raw == 7 and 0 <= health.score <= 100 and health.band.en
    seen = assignments.get_attempt(
        db, master, coach, c.AttemptRef(assignment_id=ref.assignment_id, number=1)
    )
    assert seen.answers == WHEEL

    # Sealed at rest: no answer in clear.
    with db.read_only() as uow:
        sealed = uow.connection.execute(
            select(attempt_rows.c.answers_sealed).where(
                attempt_rows.c.assignment_id == ref.assignment_id
            )
        ).scalar_one()
    assert "health" not in sealed and "relationships" not in sealed

    refused(
        "NO_ATTEMPT_LEFT",
        assignments.save_draft,
        db,
        master,
        coachee,
        c.AnswersRequest(assignment_id=ref.assignment_id, answers={}),
    )
    refused("SPACE_COACH_ONLY", assignments.allow_retake, db, master, coachee, ref)
    assert assignments.allow_retake(db, master, coach, ref).status == "retake_allowed"

    clock.advance(timedelta(days=91))
    again = dict(WHEEL, health=9)
    assignments.submit_attempt(
        db, master, coachee, c.AnswersRequest(assignment_id=ref.assignment_id, answers=again)
    )
    trend = assignments.get_trend(db, master, coachee, ref)
    line = next(t for t in trend.dimensions if t.dimension == "health")
    assert [p["number"] for p in line.points] == [1, 2] and line.change > 0

    # Another coach, another tenant: nothing.
    for nobody in (other_coach, stranger):
        refused("ASSIGNMENT_NOT_FOUND", assignments.get_assignment, db, master, nobody, ref)
        refused(
            "SPACE_NOT_FOUND",
            assignments.list_assignments,
            db,
            master,
            nobody,
            c.ListAssignmentsRequest(space_id=copy.space_id),
        )
    # A coach change: the former coach sees nothing any more.
    with db.unit_of_work() as uow:
        spaces.record_space(
            uow,
            space_event(
                sc.CoachChanged,
                copy,
                coach_person_id=other_coach.person_id,
                previous_coach_person_id=coach.person_id,
                updated_at=START + timedelta(days=92),
            ),
        )
    refused("ASSIGNMENT_NOT_FOUND", assignments.get_assignment, db, master, coach, ref)
    assert assignments.get_assignment(db, master, other_coach, ref).status == "submitted"

    # Export, key rotation, erasure.
    export = personal_data.export_personal_data(db, master, coachee)
    (mine,) = export.data["assignments_as_coachee"]
    assert [a["answers"]["health"] for a in mine["attempts"]] == [7, 9]
    rotation = keys.rotate_tenant_key(db, master, operator(), c.TenantRef(tenant_id=tenant))
    assert rotation.rewrapped == 1
    assert (
        assignments.get_attempt(
            db, master, coachee, c.AttemptRef(assignment_id=ref.assignment_id, number=2)
        ).answers
        == again
    )
    with db.unit_of_work() as uow:
        erased = ic.PersonErased(
            erasure_id=new_id("era"), person_id=coachee.person_id, requested_at=START
        )
        personal_data.erase_personal_data(uow, master, erased)
        personal_data.erase_personal_data(uow, master, erased)  # a replay
    with db.read_only() as uow:
        left = uow.connection.execute(
            select(assignment_rows.c.id).where(assignment_rows.c.id == ref.assignment_id)
        ).all()
        assert (
            left == [] and Spaces(uow.connection).get(copy.space_id).coachee_person_id == "erased"
        )  # type: ignore[union-attr]


def test_listing_attempts_reads_score_values_only_and_opens_no_sealed_answers(
    db: WorkerDatabase[AssessmentUnit], master: MasterKey, clock: FixedClock
) -> None:
    tenant = new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    coachee = person(new_id("per"), tenant, "coachee")
    copy = SpaceCopy(
        new_id("spc"), tenant, "active", coachee.person_id, coach.person_id, None, START
    )
    with db.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated, copy))
    ref = c.AssignmentRef(
        assignment_id=assignments.assign_instrument(
            db,
            master,
            coach,
            c.AssignInstrumentRequest(space_id=copy.space_id, instrument_id="wheel-of-life"),
        ).assignment_id
    )
    for n in range(3):
        if n:
            assignments.allow_retake(db, master, coach, ref)
            clock.advance(timedelta(days=30))
        assignments.submit_attempt(
            db,
            master,
            coachee,
            c.AnswersRequest(assignment_id=ref.assignment_id, answers=dict(WHEEL, health=n + 1)),
        )
    # Attempt 1's sealed answers spoilt: only what opens them can notice.
    with db.unit_of_work() as uow:
        uow.connection.execute(
            attempt_rows.update()
            .where(attempt_rows.c.assignment_id == ref.assignment_id, attempt_rows.c.number == 1)
            .values(answers_sealed="v1.spoilt")
        )

    seen = assignments.get_assignment(db, master, coach, ref)
    (listed,) = assignments.list_assignments(
        db, master, coachee, c.ListAssignmentsRequest(space_id=copy.space_id)
    ).assignments
    assert listed == seen
    health = next(i for i, d in enumerate(seen.dimensions) if d.dimension == "health")
    assert [a.scores[health]["raw"] for a in seen.attempts] == [1, 2, 3]
    trend = assignments.get_trend(db, master, coachee, ref)
    assert [len(t.points) for t in trend.dimensions] == [3] * len(seen.dimensions)
    # GetAttempt opens its one attempt's answers, and no other's.
    whole = assignments.get_attempt(
        db, master, coach, c.AttemptRef(assignment_id=ref.assignment_id, number=3)
    )
    assert whole.answers == dict(WHEEL, health=3)
    refused(
        "ASSIGNMENT_NOT_FOUND",
        assignments.get_attempt,
        db,
        master,
        coachee,
        c.AttemptRef(assignment_id=ref.assignment_id, number=4),
    )
    with pytest.raises(Exception):  # noqa: B017 (whatever the key ring raises on garbage)
        assignments.get_attempt(
            db, master, coach, c.AttemptRef(assignment_id=ref.assignment_id, number=1)
        )


def test_coaches_instruments_are_versioned_and_private_or_shared_in_their_tenant(
    db: WorkerDatabase[AssessmentUnit], master: MasterKey
) -> None:
    tenant = new_id("tnt")
    author = person(new_id("per"), tenant, "coach")
    colleague = person(new_id("per"), tenant, "coach")
    elsewhere = person(new_id("per"), new_id("tnt"), "coach")
    wheel = instruments.get_instrument(
        db, master, author, c.InstrumentRef(instrument_id="wheel-of-life")
    )
    assert wheel.built_in and wheel.document is not None
    # Every coach of every tenant reads the catalogue.
    assert (
        instruments.get_instrument(
            db, master, elsewhere, c.InstrumentRef(instrument_id="wheel-of-life")
        ).slug
        == "wheel-of-life"
    )

    document = wheel.document.model_copy(update={"slug": "my-wheel"})
    mine = instruments.create_instrument(db, author, c.CreateInstrumentRequest(document=document))
    assert (mine.version, mine.shared, mine.built_in) == (1, False, False)
    ref = c.InstrumentRef(instrument_id=mine.instrument_id)
    for nobody in (colleague, elsewhere):
        refused("INSTRUMENT_NOT_FOUND", instruments.get_instrument, db, master, nobody, ref)
    updated = instruments.update_instrument(
        db,
        author,
        c.UpdateInstrumentRequest(instrument_id=mine.instrument_id, document=document, shared=True),
    )
    assert updated.version == 2
    assert instruments.get_instrument(db, master, colleague, ref).version == 2
    assert (
        instruments.get_instrument(
            db, master, colleague, c.InstrumentRef(instrument_id=mine.instrument_id, version=1)
        ).version
        == 1
    )
    refused("INSTRUMENT_NOT_FOUND", instruments.get_instrument, db, master, elsewhere, ref)
    refused(
        "INSTRUMENT_AUTHOR_ONLY",
        instruments.update_instrument,
        db,
        colleague,
        c.UpdateInstrumentRequest(instrument_id=mine.instrument_id, document=document),
    )
    listed = instruments.list_instruments(db, colleague, c.ListInstrumentsRequest(page_size=200))
    assert [i.instrument_id for i in listed.instruments if not i.built_in] == [mine.instrument_id]
    assert len([i for i in listed.instruments if i.built_in]) >= 8


class _Outbox:
    """A mailer's `send`, keeping what would be mailed."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def send(self, to: str, locale: str, template: str, /, **values: str) -> None:
        self.sent.append((to, values))


def test_raters_addresses_are_sealed_then_deleted_once_answered_or_expired(
    db: WorkerDatabase[AssessmentUnit], master: MasterKey, clock: FixedClock
) -> None:
    """The raters table on PostgreSQL: an address sealed with the assignment's key, a token kept
    only hashed; the mailed link answers once (the address deleted in the same transaction); an
    unanswered link expires with its address deleted."""
    from services.assessment.handlers import raters
    from services.assessment.storage.tables import raters as rater_rows

    tenant = new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    coachee = person(new_id("per"), tenant, "coachee")
    copy = SpaceCopy(
        new_id("spc"), tenant, "active", coachee.person_id, coach.person_id, None, START
    )
    with db.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated, copy))
    assigned = assignments.assign_instrument(
        db,
        master,
        coach,
        c.AssignInstrumentRequest(space_id=copy.space_id, instrument_id="wheel-of-life"),
    )
    ref = assigned.assignment_id
    assignments.submit_attempt(
        db, master, coachee, c.AnswersRequest(assignment_id=ref, answers=WHEEL)
    )
    addresses = ["peer.one@example.org", "peer.two@example.org"]
    counts = raters.invite_raters(
        db,
        master,
        coachee,
        c.InviteRatersRequest(
            assignment_id=ref, raters=[{"email": a, "group": "peer"} for a in addresses]
        ),
    )
    assert (counts.invited, counts.answered, counts.expired) == (2, 0, 0)

    with db.read_only() as uow:
        rows = uow.connection.execute(
            select(rater_rows).where(rater_rows.c.assignment_id == ref)
        ).all()
    assert len(rows) == 2
    for row in rows:
        assert row.email_sealed and not any(a in row.email_sealed for a in addresses)
        assert "example.org" not in row.email_sealed and len(row.token_hash) == 64

    outbox = _Outbox()
    me = ic.ContactDetails(
        person_id=coachee.person_id,
        email="coachee@example.org",
        calendar_email="coachee@example.org",
        display_name="Camille",
        locale="fr",
        time_zone="Europe/Paris",
    )
    for row in rows:
        event = c.RaterInvited(
            assignment_id=ref,
            tenant_id=tenant,
            space_id=copy.space_id,
            rater_id=row.id,
            status="invited",
            updated_at=START,
        )
        raters.send_invitation(
            db,
            master,
            lambda ids: [me],
            outbox,
            "https://ecoach.example",
            event,  # type: ignore[arg-type]
        )
    assert sorted(to for to, _ in outbox.sent) == addresses
    links = {to: values["link"] for to, values in outbox.sent}
    token = links[addresses[0]].rsplit("/", 1)[1]
    assert all(token not in row.token_hash for row in rows)

    form = raters.get_rater_form(db, master, c.RaterTokenRequest(token=token))
    assert form.group == "peer"  # a GET uses nothing up
    raters.submit_rater_answers(
        db, master, c.RaterAnswersRequest(token=token, answers=dict(WHEEL, health=3))
    )
    refused(
        "LINK_INVALID",
        raters.submit_rater_answers,
        db,
        master,
        c.RaterAnswersRequest(token=token, answers=WHEEL),
    )

    clock.advance(timedelta(days=22))  # past the other link's 21 days
    assert raters.expire_links(db) >= 1
    with db.read_only() as uow:
        after = {
            r.status: r
            for r in uow.connection.execute(
                select(rater_rows).where(rater_rows.c.assignment_id == ref)
            )
        }
    assert set(after) == {"answered", "expired"}
    assert after["answered"].email_sealed is None and after["answered"].answers_sealed
    assert "health" not in after["answered"].answers_sealed  # the answers sealed too
    assert after["expired"].email_sealed is None
