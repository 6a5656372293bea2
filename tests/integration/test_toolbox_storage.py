"""The toolbox on its real database (ADR 0018): texts sealed at rest, sessions' latest state by
envelope sequence, unlocks with their event and mail in one transaction, the date sweep and the
mails claimed once across instances (SKIP LOCKED)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, text

from services.contracts import spaces as c
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.runtime.outbox import outbox
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.spaces.domain.model import ACTIVE, Content, Participant, SetUp, Space, new_id
from services.spaces.domain.toolbox import LOCKED, UNLOCKED, Rule, Tool
from services.spaces.handlers import personal_data, roster, toolbox
from services.spaces.storage.tools import Tools
from services.spaces.storage.unit import SpacesUnit

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> WorkerDatabase[SpacesUnit]:
    engine = make_engine(settings().database_url_for("spaces"), pool_size=2)
    database = WorkerDatabase(engine, clock, unit=SpacesUnit)
    yield database
    database.close()


@pytest.fixture
def master() -> MasterKey:
    return master_key_from(settings())


def a_space(
    db: WorkerDatabase[SpacesUnit], master: MasterKey, coached_like: Space | None = None
) -> Space:
    """A new space; in `coached_like`'s tenant, with its coach, if given."""
    set_up = SetUp(
        coachee=Participant(new_id("mem"), new_id("per")),
        coach=coached_like.set_up.coach
        if coached_like
        else Participant(new_id("mem"), new_id("per")),
        co_coach=None,
        cadence="weekly",
        sessions_planned=6,
        starts_on=date(2027, 1, 4),
    )
    tenant_id = coached_like.tenant_id if coached_like else new_id("tnt")
    space = Space.create(tenant_id, set_up, Content(), new_id("per"), NOW)
    space.status = ACTIVE
    with db.unit_of_work() as uow:
        uow.spaces.unlocked(master).add(space)
    return space


def add(
    db: WorkerDatabase[SpacesUnit],
    master: MasterKey,
    space: Space,
    rule: Rule,
    at: datetime | None = None,
    label: str = "SEALED-label",
) -> Tool:
    with db.unit_of_work() as uow:
        repo = uow.spaces.unlocked(master)
        tools = repo.tools_of(space)
        box = tools.toolbox(space.id, for_update=True)
        tool = box.add(
            Tool.create(
                space.id, space.tenant_id, "module", new_id("mas"), label, "", rule, at, 0, NOW
            )
        )
        tools.add(tool)
        toolbox.advance(uow, space.tenant_id, space.id, box)
    return tool


def state(db: WorkerDatabase[SpacesUnit], tool: Tool) -> str:
    with db.read_only() as uow:
        return str(uow.tools.toolbox(tool.space_id).get(tool.id).state)


def events(db: WorkerDatabase[SpacesUnit], tool: Tool) -> list[str]:
    with db.read_only() as uow:
        rows = uow.connection.execute(
            select(outbox.c.event_type)
            .where(outbox.c.aggregate_id == tool.id)
            .order_by(outbox.c.sequence)
        )
        return [r.event_type for r in rows]


def mails(db: WorkerDatabase[SpacesUnit], tool: Tool) -> int:
    with db.read_only() as uow:
        return int(
            uow.connection.execute(
                text("SELECT count(*) FROM tool_mails WHERE tool_id = :t"), {"t": tool.id}
            ).scalar_one()
        )


def session(space: Space, kind: str, sequence: int, db: WorkerDatabase[SpacesUnit], sid: str):  # type: ignore[no-untyped-def]
    event = SimpleNamespace(session_id=sid, space_id=space.id, tenant_id=space.tenant_id)
    with db.unit_of_work() as uow:
        toolbox.session_changed(uow, event, f"scheduling.session_{kind}", sequence)


def test_texts_are_sealed_and_only_open_with_the_space_key(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    space = a_space(db, master)
    tool = add(db, master, space, Rule(by_hand=True))
    with db.read_only() as uow:
        raw = " ".join(
            str(v)
            for r in uow.connection.execute(
                text("SELECT * FROM tools WHERE id = :t"), {"t": tool.id}
            )
            for v in r
        )
        assert "SEALED" not in raw
        assert uow.tools.toolbox(space.id).get(tool.id).label == ""  # without the key
        assert (
            uow.spaces.unlocked(master).tools_of(space).toolbox(space.id).get(tool.id).label
            == "SEALED-label"
        )


def test_held_sessions_unlock_once_and_a_correction_relocks_nothing(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    space = a_space(db, master)
    tool = add(db, master, space, Rule(after_sessions_held=2))
    assert state(db, tool) == LOCKED and events(db, tool) == []
    first, second = new_id("ses"), new_id("ses")
    session(space, "booked", 1, db, first)
    session(space, "held", 2, db, first)
    session(space, "held", 3, db, second)
    assert state(db, tool) == UNLOCKED
    session(space, "held", 3, db, second)  # the same event again: nothing new
    session(space, "no_show", 4, db, second)  # corrected: stays unlocked
    assert state(db, tool) == UNLOCKED
    assert events(db, tool) == ["spaces.tool_unlocked"]
    assert mails(db, tool) == 1
    with db.read_only() as uow:
        assert uow.space_sessions.held(space.id) == 1


def test_an_older_event_arriving_late_changes_nothing(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    space = a_space(db, master)
    sid = new_id("ses")
    session(space, "cancelled", 5, db, sid)
    session(space, "held", 4, db, sid)
    with db.read_only() as uow:
        assert uow.space_sessions.held(space.id) == 0


def test_the_date_sweep_claims_each_tool_once_across_instances(
    db: WorkerDatabase[SpacesUnit], master: MasterKey, clock: FixedClock
) -> None:
    space = a_space(db, master)
    tool = add(db, master, space, Rule(on_date=date(2027, 3, 2)), at=NOW + timedelta(hours=15))
    assert toolbox.sweep_dates(db) == 0 or state(db, tool) == LOCKED
    clock.advance(timedelta(days=1))
    # Another instance holds the due rows: this sweep skips them rather than wait.
    engine = make_engine(settings().database_url_for("spaces"), pool_size=1)
    with engine.begin() as other:
        assert (space.tenant_id, space.id) in Tools(other).claim_due_spaces(clock.now())
        with db.unit_of_work() as uow:
            assert (space.tenant_id, space.id) not in uow.tools.claim_due_spaces(clock.now())
    engine.dispose()
    toolbox.sweep_dates(db)
    toolbox.sweep_dates(db)
    assert state(db, tool) == UNLOCKED
    assert events(db, tool) == ["spaces.tool_unlocked"]
    assert mails(db, tool) == 1


def test_unlock_mails_are_claimed_once_and_released_on_failure(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    space = a_space(db, master)
    add(db, master, space, Rule())
    person = space.set_up.coachee.person_id
    contact = SimpleNamespace(
        person_id=person, email="c@example.org", display_name="C", locale="fr", time_zone=""
    )
    sent: list[tuple[str, str, dict[str, str]]] = []

    class Refusing:
        def send(self, *a: object, **k: object) -> None:
            raise OSError("refused")

    class Mailer:
        def send(self, to: str, locale: str, template: str, **values: str) -> None:
            sent.append((to, template, values))

    def contacts(ids: list[str]) -> list[object]:
        return [contact] if person in ids else []

    def mine(uow: SpacesUnit) -> int:
        return int(
            uow.connection.execute(
                text("SELECT count(*) FROM tool_mails WHERE person_id = :p AND claimed_at IS NULL"),
                {"p": person},
            ).scalar_one()
        )

    toolbox.send_mails(db, contacts, Refusing(), "http://web")  # type: ignore[arg-type]
    with db.read_only() as uow:
        assert mine(uow) == 1  # released: the next sweep tries again
    while True:  # other tests' mails may be pending too: sweep until ours left
        toolbox.send_mails(db, contacts, Mailer(), "http://web")  # type: ignore[arg-type]
        with db.read_only() as uow:
            if mine(uow) == 0:
                break
    assert [(to, t) for to, t, _ in sent] == [("c@example.org", "tool_unlocked")]
    assert sent[0][2]["link"] == f"http://web/spaces/{space.id}"
    toolbox.send_mails(db, contacts, Mailer(), "http://web")  # type: ignore[arg-type]
    assert len(sent) == 1


def test_a_target_done_marks_its_tool_and_opens_the_tools_waiting_for_it(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    space = a_space(db, master)
    with db.unit_of_work() as uow:
        repo = uow.spaces.unlocked(master)
        tools = repo.tools_of(space)
        box = tools.toolbox(space.id, for_update=True)
        first = box.add(
            Tool.create(
                space.id, space.tenant_id, "resource", "rec_1a", "Read", "", Rule(), None, 0, NOW
            )
        )
        tools.add(first)
        then = box.add(
            Tool.create(
                space.id,
                space.tenant_id,
                "video_room",
                None,
                "Room",
                "",
                Rule(after_tool_id=first.id),
                None,
                0,
                NOW,
            )
        )
        tools.add(then)
        toolbox.advance(uow, space.tenant_id, space.id, box)
    assert (state(db, first), state(db, then)) == (UNLOCKED, LOCKED)
    marked = SimpleNamespace(tenant_id=space.tenant_id, status="new")
    with db.unit_of_work() as uow:  # marked, but not read: not done
        toolbox.target_done(uow, "content.recommendation_marked", "rec_1a", marked)
    assert state(db, then) == LOCKED
    marked.status = "read"
    with db.unit_of_work() as uow:
        toolbox.target_done(uow, "content.recommendation_marked", "rec_1a", marked)
    with db.unit_of_work() as uow:  # again: done once
        toolbox.target_done(uow, "content.recommendation_marked", "rec_1a", marked)
    assert state(db, then) == UNLOCKED
    assert events(db, first) == ["spaces.tool_unlocked", "spaces.tool_done"]
    assert events(db, then) == ["spaces.tool_unlocked"]
    other = SimpleNamespace(tenant_id=new_id("tnt"), status="read")
    with db.unit_of_work() as uow:  # another tenant's recommendation of the same id: nothing
        toolbox.target_done(uow, "content.recommendation_marked", "rec_1a", other)


def test_the_coachee_exports_their_toolbox_and_erasure_takes_it_with_their_space(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    space = a_space(db, master)
    tool = add(db, master, space, Rule(by_hand=True), label="Values card")
    coachee = space.set_up.coachee.person_id
    with db.unit_of_work() as uow:  # a mail owed, as if it had unlocked
        uow.tool_mails.owe(tool, coachee, NOW)
    caller = PersonClaims(coachee, None, (), False, "tok_1", NOW, NOW + timedelta(hours=1))
    exported = personal_data.export_personal_data(db, master, caller)
    [mine] = [s for s in exported.data["spaces_as_coachee"] if s["space_id"] == space.id]
    assert [(t["label"], t["state"], t["template"]) for t in mine["toolbox"]] == [
        ("Values card", "locked", "")
    ]
    erased = SimpleNamespace(person_id=coachee, erasure_id=new_id("era"))
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(uow, master, erased)  # type: ignore[arg-type]
    with db.read_only() as uow:
        left = uow.connection.execute(
            text(
                "SELECT (SELECT count(*) FROM tools WHERE space_id = :s) + "
                "(SELECT count(*) FROM tool_mails WHERE person_id = :p)"
            ),
            {"s": space.id, "p": coachee},
        ).scalar_one()
    assert left == 0


def test_the_coach_roster_counts_every_toolbox_in_one_grouped_query(
    db: WorkerDatabase[SpacesUnit], master: MasterKey
) -> None:
    full = a_space(db, master)
    empty = a_space(db, master, coached_like=full)
    add(db, master, full, Rule())  # unlocked at once
    add(db, master, full, Rule())
    add(db, master, full, Rule(by_hand=True))  # locked
    gone = add(db, master, full, Rule())
    with db.unit_of_work() as uow:
        tools = uow.tools
        box = tools.toolbox(full.id, for_update=True)
        for changed in box.remove(box.get(gone.id), NOW):
            tools.save(changed)
    other = a_space(db, master)  # another coach's: not counted, not even asked for
    add(db, master, other, Rule())

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.connection, "before_cursor_execute", seen)
    try:
        coach = PersonClaims(
            full.set_up.coach.person_id,
            full.tenant_id,
            ("coach",),
            False,
            "tok_1",
            NOW,
            NOW + timedelta(hours=1),
        )
        found = roster.get_coach_roster(
            db, master, coach, c.ListSpacesRequest(tenant_id=full.tenant_id)
        )
    finally:
        event.remove(db.connection, "before_cursor_execute", seen)
    counts = {e.space.space_id: (e.tools_open, e.tools_total) for e in found.entries}
    assert counts == {full.id: (2, 3), empty.id: (0, 0)}
    assert len([s for s in statements if "FROM tools" in s]) == 1
    with db.read_only() as uow:
        assert uow.tools.counts([]) == {}
        assert uow.tools.counts([other.id, empty.id]) == {other.id: (1, 1)}
