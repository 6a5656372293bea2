"""Sessions, series and busy time: the repository the booking rules lean on.

The exclusion constraint on `busy` (see `tables`) is the guarantee against double booking; the
queries here answer a race's losers early and take the participants' locks in one order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg2.extras import DateTimeTZRange
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    String,
    and_,
    bindparam,
    delete,
    exc,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from services.kernel.runtime.pagination import keyset_page
from services.kernel.runtime.republish import id_page

from ..domain.availability import Interval
from ..domain.model import ERASED_PERSON, Session, TimeTaken
from .tables import busy, series, sessions

# The hot statements of a booking, built once: their SQL is fixed whatever the number of
# participants (arrays), so nothing is constructed or cache-keyed per call (measured: building
# the pre-check as an OR of one condition per row took a quarter of scheduling's CPU in a race).
_TAKEN = text(
    "SELECT 1 FROM busy JOIN unnest(:people, :starts, :ends, :sessions)"
    " AS r(person_id, starts_at, ends_at, session_id)"
    " ON busy.person_id = r.person_id"
    " AND busy.during && tstzrange(r.starts_at, r.ends_at, '[)')"
    " AND busy.session_id <> r.session_id LIMIT 1"
).bindparams(
    bindparam("people", type_=ARRAY(String)),
    bindparam("starts", type_=ARRAY(DateTime(timezone=True))),
    bindparam("ends", type_=ARRAY(DateTime(timezone=True))),
    bindparam("sessions", type_=ARRAY(String)),
)
# Before any transaction, for one booking asked in a space by one of its participants: is its
# time taken already (committed) for any of them? The same overlap as the busy rows the
# booking would write (the coach's with the buffer), the length the coach's default or the
# one asked if the coach offers it. No row (unknown space, not a participant, not active, no
# availability, a length not offered): the booking's own checks answer.
_TAKEN_IN_SPACE = text(
    "WITH asked AS ("
    " SELECT s.coachee_person_id, s.coach_person_id, s.co_coach_person_id, a.buffer_minutes,"
    " CAST(:start AS timestamptz) + make_interval(mins => COALESCE(CAST(:minutes AS int),"
    " CAST(a.session_minutes->>0 AS int))) AS ends_at"
    " FROM spaces AS s JOIN availability AS a ON a.coach_person_id = s.coach_person_id"
    " WHERE s.tenant_id = :tenant_id AND s.space_id = :space_id AND s.status = 'active'"
    " AND :person_id IN (s.coachee_person_id, s.coach_person_id, s.co_coach_person_id)"
    " AND (CAST(:minutes AS int) IS NULL"
    " OR a.session_minutes @> jsonb_build_array(CAST(:minutes AS int))))"
    " SELECT 1 FROM asked CROSS JOIN LATERAL"
    " unnest(ARRAY[asked.coachee_person_id, asked.coach_person_id, asked.co_coach_person_id])"
    " AS p(person_id)"
    " JOIN busy ON busy.person_id = p.person_id AND busy.during && tstzrange("
    " CAST(:start AS timestamptz), asked.ends_at + CASE WHEN p.person_id = asked.coach_person_id"
    " THEN make_interval(mins => asked.buffer_minutes) ELSE interval '0' END, '[)')"
    " LIMIT 1"
).bindparams(bindparam("start", type_=DateTime(timezone=True)))
_LOCK_PEOPLE = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(p, 0)) FROM unnest(:people) AS p"
).bindparams(bindparam("people", type_=ARRAY(String)))

EXCLUSION_VIOLATION = "23P01"


def is_exclusion_violation(error: exc.DBAPIError) -> bool:
    return getattr(error.orig, "pgcode", None) == EXCLUSION_VIOLATION


def session_row(s: Session) -> dict[str, Any]:
    return {
        "tenant_id": s.tenant_id,
        "space_id": s.space_id,
        "series_id": s.series_id,
        "status": s.status,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "time_zone": s.time_zone,
        "local_start": s.local_start,
        "shifted": s.shifted,
        "coachee_person_id": s.coachee_person_id,
        "coach_person_id": s.coach_person_id,
        "co_coach_person_id": s.co_coach_person_id,
        "booked_by": s.booked_by,
        "cancelled_at": s.cancelled_at,
        "cancelled_by": s.cancelled_by,
        "cancel_reason": s.cancel_reason,
        "late": s.late,
        "uses_session": s.uses_session,
        "marked_at": s.marked_at,
        "marked_by": s.marked_by,
        "sequence": s.sequence,
        "pending_request_id": s.pending_request_id,
        "occurrence": s.occurrence,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def session_of(r: Any) -> Session:
    return Session(
        id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        series_id=r.series_id,
        status=r.status,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        time_zone=r.time_zone,
        local_start=r.local_start,
        shifted=r.shifted,
        coachee_person_id=r.coachee_person_id,
        coach_person_id=r.coach_person_id,
        co_coach_person_id=r.co_coach_person_id,
        booked_by=r.booked_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
        cancelled_at=r.cancelled_at,
        cancelled_by=r.cancelled_by,
        cancel_reason=r.cancel_reason,
        late=r.late,
        uses_session=r.uses_session,
        marked_at=r.marked_at,
        marked_by=r.marked_by,
        sequence=r.sequence,
        pending_request_id=r.pending_request_id,
        occurrence=r.occurrence,
    )


def _participant(person_id: str) -> Any:
    return or_(
        sessions.c.coachee_person_id == person_id,
        sessions.c.coach_person_id == person_id,
        sessions.c.co_coach_person_id == person_id,
    )


def _busy_rows(
    booked: list[Session],
    buffer_minutes: int,
    request_id: str | None,
    at: list[Interval] | None,
) -> list[dict[str, Any]]:
    """Each participant's busy row for each session (or for its proposal `at`): the coach's
    runs on by the buffer; an erased participant holds no time."""
    rows = []
    for i, s in enumerate(booked):
        start, end = at[i] if at else (s.starts_at, s.ends_at)
        for person in s.people():
            if person == ERASED_PERSON:
                continue
            extra = timedelta(minutes=buffer_minutes) if person == s.coach_person_id else None
            rows.append(
                {
                    "person_id": person,
                    "during": DateTimeTZRange(start, end + extra if extra else end, "[)"),
                    "session_id": s.id,
                    "request_id": request_id,
                }
            )
    return rows


def _to_mark(tenant_id: str, coach_person_id: str, before: datetime) -> Any:
    """The coach's (or co-coach's) sessions of the tenant still booked, ended before `before`:
    waiting for their attendance."""
    return and_(
        sessions.c.tenant_id == tenant_id,
        or_(
            sessions.c.coach_person_id == coach_person_id,
            sessions.c.co_coach_person_id == coach_person_id,
        ),
        sessions.c.status == "booked",
        sessions.c.ends_at <= before,
    )


class Sessions:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -------------------------------------------------------- sessions

    def add_series(
        self,
        series_id: str,
        tenant_id: str,
        space_id: str,
        frequency: str,
        time_zone: str,
        count: int | None,
        until: Any,
        by: str,
        now: datetime,
        follows: str | None = None,
    ) -> None:
        self.connection.execute(
            insert(series).values(
                id=series_id,
                tenant_id=tenant_id,
                space_id=space_id,
                frequency=frequency,
                time_zone=time_zone,
                count=count,
                until=until,
                follows_series_id=follows,
                created_by=by,
                created_at=now,
            )
        )

    def end_series(self, series_id: str, until: Any) -> None:
        """The series stops after `until` (a date); calendars are told (its sequence is raised)."""
        self.connection.execute(
            update(series)
            .where(series.c.id == series_id)
            .values(until=until, count=None, sequence=series.c.sequence + 1)
        )

    def raise_series(self, series_ids: list[str]) -> None:
        """Calendars are sent these series whole again (their sequence is raised)."""
        if series_ids:
            self.connection.execute(
                update(series)
                .where(series.c.id.in_(series_ids))
                .values(sequence=series.c.sequence + 1)
            )

    def cancelled_together(self, s: Session) -> list[Session]:
        """The sessions of `s`'s space that the change which cancelled `s` cancelled (one
        transaction: they share its time), in time order."""
        if s.cancelled_at is None:
            return []
        rows = self.connection.execute(
            select(sessions)
            .where(
                sessions.c.space_id == s.space_id,
                sessions.c.status == "cancelled",
                sessions.c.cancelled_at == s.cancelled_at,
            )
            .order_by(sessions.c.starts_at)
        )
        return [session_of(r) for r in rows]

    def series_state(self, series_id: str) -> tuple[Any, list[Session]] | None:
        """A series' row and all its sessions (every status), in occurrence order."""
        row = self.connection.execute(select(series).where(series.c.id == series_id)).first()
        if row is None:
            return None
        rows = self.connection.execute(
            select(sessions)
            .where(sessions.c.series_id == series_id)
            .order_by(sessions.c.occurrence, sessions.c.starts_at)
        )
        return row, [session_of(r) for r in rows]

    def frequency_of(self, series_id: str) -> str | None:
        return self.connection.execute(
            select(series.c.frequency).where(series.c.id == series_id)
        ).scalar()

    def add(self, booked: list[Session], buffer_minutes: int) -> None:
        """The sessions and their participants' busy rows (the exclusion constraint decides)."""
        rows = _busy_rows(booked, buffer_minutes, None, None)
        self._refuse_taken(rows)  # first: a race's losers are answered in one query
        self.connection.execute(insert(sessions), [{"id": s.id, **session_row(s)} for s in booked])
        self._write_busy(rows)

    def hold_time(
        self,
        booked: list[Session],
        buffer_minutes: int,
        request_id: str | None = None,
        at: list[Interval] | None = None,
    ) -> None:
        """Hold the participants' time for sessions already stored (moved ones), or for a
        reschedule request's proposals `at` (one interval per session)."""
        rows = _busy_rows(booked, buffer_minutes, request_id, at)
        self._refuse_taken(rows)
        self._write_busy(rows)

    def taken_in_space(
        self,
        tenant_id: str,
        space_id: str,
        person_id: str,
        starts_at: datetime,
        minutes: int | None,
    ) -> bool:
        """True if a booking of `starts_at` in the space, asked by `person_id`, would overlap
        time already taken (committed) by one of its participants (`_TAKEN_IN_SPACE`)."""
        found = self.connection.execute(
            _TAKEN_IN_SPACE,
            {
                "tenant_id": tenant_id,
                "space_id": space_id,
                "person_id": person_id,
                "start": starts_at,
                "minutes": minutes,
            },
        ).first()
        return found is not None

    def _refuse_taken(self, rows: list[dict[str, Any]]) -> None:
        """Time already taken (committed) is refused at once, without queueing for the lock:
        in a race, everyone who arrives after the winner's commit is answered in a query."""
        if not rows:
            return
        taken = self.connection.execute(
            _TAKEN,
            {
                "people": [r["person_id"] for r in rows],
                "starts": [r["during"].lower for r in rows],
                "ends": [r["during"].upper for r in rows],
                "sessions": [r["session_id"] for r in rows],
            },
        ).first()
        if taken is not None:
            raise TimeTaken()

    def _write_busy(self, rows: list[dict[str, Any]]) -> None:
        """Insert the rows under the participants' locks. Racers that passed the check before
        the winner committed queue on the lock; once they hold it, the check is asked again
        (a query is far cheaper than a constraint violation's error and rollback)."""
        if not rows:
            return
        self._lock_people([r["person_id"] for r in rows])
        self._refuse_taken(rows)
        try:
            self.connection.execute(insert(busy), rows)
        except exc.IntegrityError as error:
            if is_exclusion_violation(error):
                raise TimeTaken() from None
            raise

    def _lock_people(self, people: list[str]) -> None:
        """One transaction at a time writes a person's busy time. Without this, two bookings
        of overlapping time can each insert its row, then each wait for the other's outcome
        while checking the exclusion constraint: PostgreSQL's deadlock detector breaks that
        after `deadlock_timeout` (1 s) with an error (measured: 50-way races had 1-10 s tails
        and INTERNAL errors). Locks are taken in one order (sorted ids, one statement whose
        function scan keeps the array's order), so they cannot deadlock among themselves; the
        constraint stays the guarantee."""
        self.connection.execute(_LOCK_PEOPLE, {"people": sorted(set(people))})

    def release_time(self, session_ids: list[str], *, holds_only: str | None = None) -> None:
        """Delete the sessions' busy rows (booked time), or one request's held proposal."""
        if holds_only is not None:
            self.connection.execute(delete(busy).where(busy.c.request_id == holds_only))
            return
        self.connection.execute(
            delete(busy).where(busy.c.session_id.in_(session_ids), busy.c.request_id.is_(None))
        )

    def promote_hold(self, request_id: str, session_id: str) -> None:
        """An approved proposal's held time becomes the session's time."""
        self.release_time([session_id])
        self.connection.execute(
            update(busy).where(busy.c.request_id == request_id).values(request_id=None)
        )

    def save(self, s: Session) -> None:
        self.connection.execute(
            update(sessions).where(sessions.c.id == s.id).values(**session_row(s))
        )

    def get(self, tenant_id: str, session_id: str, *, for_update: bool = False) -> Session | None:
        query = select(sessions).where(
            sessions.c.id == session_id, sessions.c.tenant_id == tenant_id
        )
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return session_of(row) if row else None

    def ids_after(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        """Republishing's keyset page (services/kernel/runtime/republish.py)."""
        return id_page(self.connection, sessions, tenant_id, after, limit)

    def get_many(self, session_ids: list[str]) -> list[Session]:
        rows = self.connection.execute(
            select(sessions).where(sessions.c.id.in_(session_ids)).order_by(sessions.c.id)
        )
        return [session_of(r) for r in rows]

    def following(self, s: Session) -> list[Session]:
        """This occurrence and the later ones of its series still booked, locked."""
        rows = self.connection.execute(
            select(sessions)
            .where(
                sessions.c.series_id == s.series_id,
                sessions.c.starts_at >= s.starts_at,
                sessions.c.status == "booked",
            )
            .order_by(sessions.c.starts_at)
            .with_for_update()
        )
        return [session_of(r) for r in rows]

    def used(self, tenant_id: str, space_id: str) -> int:
        """Sessions that count against the engagement (booked, held, no-shows, late)."""
        return self.connection.execute(
            select(func.count())
            .select_from(sessions)
            .where(
                sessions.c.tenant_id == tenant_id,
                sessions.c.space_id == space_id,
                sessions.c.uses_session.is_(True),
            )
        ).scalar_one()

    def page_of_space(
        self, tenant_id: str, space_id: str, size: int, token: str
    ) -> tuple[list[Session], str]:
        query = select(sessions).where(
            sessions.c.tenant_id == tenant_id, sessions.c.space_id == space_id
        )
        return keyset_page(
            self.connection, sessions, query, size, token, session_of, key="starts_at"
        )

    def of_person(
        self, person_id: str, from_at: datetime, to_at: datetime, limit: int = 1000
    ) -> list[Session]:
        rows = self.connection.execute(
            select(sessions)
            .where(
                _participant(person_id),
                sessions.c.starts_at >= from_at,
                sessions.c.starts_at < to_at,
            )
            .order_by(sessions.c.starts_at, sessions.c.id)
            .limit(limit)
        )
        return [session_of(r) for r in rows]

    def all_of_person(self, person_id: str) -> list[Session]:
        rows = self.connection.execute(
            select(sessions).where(_participant(person_id)).order_by(sessions.c.starts_at)
        )
        return [session_of(r) for r in rows]

    def future_of_space(
        self, space_id: str, now: datetime, coach_person_id: str | None = None
    ) -> list[Session]:
        query = select(sessions).where(
            sessions.c.space_id == space_id,
            sessions.c.status == "booked",
            sessions.c.starts_at > now,
        )
        if coach_person_id is not None:
            query = query.where(sessions.c.coach_person_id == coach_person_id)
        return [
            session_of(r)
            for r in self.connection.execute(query.order_by(sessions.c.starts_at).with_for_update())
        ]

    def future_of_person(self, person_id: str, now: datetime) -> list[Session]:
        rows = self.connection.execute(
            select(sessions)
            .where(
                _participant(person_id), sessions.c.status == "booked", sessions.c.starts_at > now
            )
            .with_for_update()
        )
        return [session_of(r) for r in rows]

    def next_of_spaces(
        self, tenant_id: str, space_ids: list[str], now: datetime, per_space: int
    ) -> list[Session]:
        if not space_ids:
            return []
        ranked = (
            select(
                sessions,
                func.row_number()
                .over(partition_by=sessions.c.space_id, order_by=sessions.c.starts_at)
                .label("rank"),
            )
            .where(
                sessions.c.tenant_id == tenant_id,
                sessions.c.space_id.in_(space_ids),
                sessions.c.status == "booked",
                sessions.c.ends_at > now,
            )
            .subquery()
        )
        rows = self.connection.execute(
            select(ranked).where(ranked.c.rank <= per_space).order_by(ranked.c.starts_at)
        )
        return [session_of(r) for r in rows]

    def use_of_spaces(self, tenant_id: str, space_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per space, the sessions that use the engagement, those held and those booked (one
        query; a space without sessions is absent)."""
        if not space_ids:
            return {}
        rows = self.connection.execute(
            select(
                sessions.c.space_id,
                func.count().filter(sessions.c.uses_session.is_(True)).label("used"),
                func.count().filter(sessions.c.status == "held").label("held"),
                func.count().filter(sessions.c.status == "booked").label("booked"),
            )
            .where(sessions.c.tenant_id == tenant_id, sessions.c.space_id.in_(space_ids))
            .group_by(sessions.c.space_id)
        )
        return {r.space_id: {"used": r.used, "held": r.held, "booked": r.booked} for r in rows}

    def to_mark_counts(
        self, tenant_id: str, coach_person_id: str, space_ids: list[str], before: datetime
    ) -> dict[str, int]:
        """Per space, how many sessions `to_mark` would list (without its limit)."""
        if not space_ids:
            return {}
        rows = self.connection.execute(
            select(sessions.c.space_id, func.count().label("n"))
            .where(_to_mark(tenant_id, coach_person_id, before), sessions.c.space_id.in_(space_ids))
            .group_by(sessions.c.space_id)
        )
        return {r.space_id: r.n for r in rows}

    def to_mark(
        self, tenant_id: str, coach_person_id: str, before: datetime, limit: int = 100
    ) -> list[Session]:
        rows = self.connection.execute(
            select(sessions)
            .where(_to_mark(tenant_id, coach_person_id, before))
            .order_by(sessions.c.starts_at)
            .limit(limit)
        )
        return [session_of(r) for r in rows]

    def busy_of(
        self,
        people: list[str],
        from_at: datetime,
        to_at: datetime,
        ignore_session: str | None = None,
        *,
        here_only: tuple[str, ...] = (),
        tenant_id: str = "",
    ) -> list[Interval]:
        """Every busy interval of these people overlapping [from_at, to_at), in all tenants;
        of `here_only`'s, only those of sessions of `tenant_id` (someone else's view of them
        must not show what they do in another tenant)."""
        whose: ColumnElement[bool] = busy.c.person_id.in_(people)
        if here_only:
            local = select(sessions.c.id).where(sessions.c.tenant_id == tenant_id)
            whose = or_(whose, busy.c.person_id.in_(here_only) & busy.c.session_id.in_(local))
        query = select(func.lower(busy.c.during), func.upper(busy.c.during)).where(
            whose, busy.c.during.op("&&")(func.tstzrange(from_at, to_at, "[)"))
        )
        if ignore_session is not None:
            query = query.where(busy.c.session_id != ignore_session)
        return [(r[0], r[1]) for r in self.connection.execute(query)]

    def conflicts(
        self,
        people: list[str],
        intervals: list[Interval],
        buffer_minutes: int,
        coach: str,
        ignore: list[str] | None = None,
    ) -> list[int]:
        """Indexes of the intervals where one of the people is busy already."""
        found = []
        for i, (start, end) in enumerate(intervals):
            for person in people:
                extra = timedelta(minutes=buffer_minutes) if person == coach else timedelta(0)
                query = select(busy.c.id).where(
                    busy.c.person_id == person,
                    busy.c.during.op("&&")(func.tstzrange(start, end + extra, "[)")),
                )
                if ignore:
                    query = query.where(busy.c.session_id.not_in(ignore))
                if self.connection.execute(query.limit(1)).first():
                    found.append(i)
                    break
        return found

    def swap_person(self, s: Session, old: str | None, new: str | None) -> None:
        """Persist `s` after its co-coach changed from `old` to `new` (`Session.change_co_coach`):
        the previous one's time is released, the new one's held where they are free (ON
        CONFLICT DO NOTHING)."""
        if old:
            self.connection.execute(
                delete(busy).where(busy.c.session_id == s.id, busy.c.person_id == old)
            )
        self.save(s)
        if new:
            self.connection.execute(
                text(
                    "INSERT INTO busy (person_id, during, session_id) "
                    "VALUES (:p, tstzrange(:s, :e, '[)'), :id) ON CONFLICT DO NOTHING"
                ),
                {"p": new, "s": s.starts_at, "e": s.ends_at, "id": s.id},
            )

    def anonymise(self, person_id: str) -> None:
        self.connection.execute(delete(busy).where(busy.c.person_id == person_id))
        for column in (
            "coachee_person_id",
            "coach_person_id",
            "co_coach_person_id",
            "booked_by",
            "marked_by",
        ):
            self.connection.execute(
                update(sessions)
                .where(sessions.c[column] == person_id)
                .values({column: ERASED_PERSON})
            )
        self.connection.execute(
            update(series).where(series.c.created_by == person_id).values(created_by=ERASED_PERSON)
        )
