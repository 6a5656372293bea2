"""The spaces service's use cases: one function per command or query, each in a unit of work."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.contracts import identity as ic
from services.contracts import spaces as c
from services.contracts.base import Empty, PageRequest
from services.kernel.caller import Caller, PersonClaims, require_operator, require_person
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    DomainError,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    invalid,
)
from services.kernel.markdown import render as render_markdown
from services.kernel.personal_data import completion_event

from .domain.goals import EDITABLE, Goal
from .domain.importing import parse_space_rows, rejected_for
from .domain.model import (
    ARCHIVED,
    CO_COACH_SEAT,
    COACH_SEAT,
    MOVE_EVENTS,
    Content,
    MemberFacts,
    Participant,
    Relation,
    SetUp,
    Space,
    check_creator,
    check_member_roles,
    oversees,
    space_not_found,
)
from .domain.notes import SHARED, Note, note_not_found
from .storage.goals import Goals
from .storage.notes import ERASED_PERSON, Notes
from .storage.spaces import Spaces
from .storage.unit import Db, SpacesUnit

# member ids of one tenant -> what identity knows of them
Resolve = Callable[[str, list[str]], dict[str, MemberFacts]]


def _member_of(caller: Caller, tenant_id: str) -> PersonClaims:
    """A person's token for this very tenant; anything else sees no space of it."""
    who = require_person(caller)
    if who.tenant_id != tenant_id:
        raise NotFound("No such tenant.", reason="TENANT_NOT_FOUND")
    return who


def _is_admin(who: PersonClaims) -> bool:
    return who.has_role("tenant_admin")


def _set_up(resolve: Resolve, tenant_id: str, given: c.SetUpInput) -> SetUp:
    ids = {
        "coachee_member_id": given.coachee_member_id,
        "coach_member_id": given.coach_member_id,
    }
    if given.co_coach_member_id:
        ids["co_coach_member_id"] = given.co_coach_member_id
    found = resolve(tenant_id, sorted(set(ids.values())))
    check_member_roles(found, ids)

    def participant(member_id: str | None) -> Participant | None:
        return Participant(member_id, found[member_id][0]) if member_id else None

    coachee, coach = participant(given.coachee_member_id), participant(given.coach_member_id)
    assert coachee is not None and coach is not None
    return SetUp(
        coachee=coachee,
        coach=coach,
        co_coach=participant(given.co_coach_member_id),
        cadence=given.cadence,
        sessions_planned=given.sessions_planned,
        starts_on=given.starts_on,
        ends_on=given.ends_on,
    ).check()


def _participant_view(p: Participant | None) -> c.ParticipantView | None:
    return c.ParticipantView(member_id=p.member_id, person_id=p.person_id) if p else None


def space_view(space: Space, relation: Relation) -> c.Space:
    s = space.set_up
    coachee, coach = _participant_view(s.coachee), _participant_view(s.coach)
    assert coachee is not None and coach is not None
    content = None
    hidden = space.earlier_hidden_from(relation)
    if relation is not Relation.TENANT_ADMIN and hidden is None:
        content = c.ContentView(
            project=space.content.project,
            objectives=space.content.objectives,
            context=space.content.context,
        )
    return c.Space(
        space_id=space.id,
        tenant_id=space.tenant_id,
        status=c.SpaceStatus(space.status),
        set_up=c.SetUpView(
            coachee=coachee,
            coach=coach,
            co_coach=_participant_view(s.co_coach),
            cadence=s.cadence,  # type: ignore[arg-type]
            sessions_planned=s.sessions_planned,
            starts_on=s.starts_on,
            ends_on=s.ends_on,
        ),
        content=content,
        relation=relation.value,  # type: ignore[arg-type]
        created_by=space.created_by,
        created_at=space.created_at,
        updated_at=space.updated_at,
        pending_coach_change=pending_coach_view(space),
        earlier_content_hidden=hidden is not None,
        earlier_content_hidden_from_coaches=relation is Relation.COACHEE
        and any(
            space.earlier_hidden_from(seat) is not None
            for seat in (Relation.COACH, Relation.CO_COACH)
        ),
    )


def _event(model: type[c.SpaceEvent], space: Space, **more: Any) -> c.SpaceEvent:
    s = space.set_up
    return model(
        **more,
        space_id=space.id,
        tenant_id=space.tenant_id,
        status=c.SpaceStatus(space.status),
        coachee_person_id=s.coachee.person_id,
        coach_person_id=s.coach.person_id,
        co_coach_person_id=s.co_coach.person_id if s.co_coach else None,
        cadence=s.cadence,  # type: ignore[arg-type]
        sessions_planned=s.sessions_planned,
        starts_on=s.starts_on,
        ends_on=s.ends_on,
        updated_at=space.updated_at,
    )


def create_space(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.CreateSpaceRequest,
) -> c.Space:
    """A tenant admin, or the coach of the space to be, opens a draft."""
    who = _member_of(caller, request.tenant_id)
    set_up = _set_up(resolve, request.tenant_id, request.set_up)  # an RPC: before the transaction
    check_creator(who.person_id, _is_admin(who), who.has_role("coach"), set_up)
    content = Content().changed(request.content.model_dump())
    with db.unit_of_work() as uow:
        space = Space.create(request.tenant_id, set_up, content, who.person_id, uow.clock.now())
        uow.spaces.unlocked(master).add(space)
        uow.record(_event(c.SpaceCreated, space))
    return space_view(space, space.visible_relation(who.person_id, _is_admin(who)))


ResolveEmails = Callable[[str, list[str]], dict[str, tuple[str, MemberFacts]]]


def import_spaces(
    db: Db,
    master: MasterKey,
    resolve_emails: ResolveEmails,
    caller: Caller,
    request: c.ImportSpacesRequest,
) -> c.ImportSpacesResponse:
    """Drafts from a CSV of coachee and coach emails, all good rows in one transaction; every
    other row reported with its line and why. A coach opens only spaces they coach."""
    who = _member_of(caller, request.tenant_id)
    admin, coach_role = _is_admin(who), who.has_role("coach")
    if not admin and not coach_role:
        raise PermissionDenied(
            "Only a tenant admin, or a coach for their own spaces, may open spaces.",
            reason="SPACE_CREATE_FORBIDDEN",
        )
    try:
        data = base64.b64decode(request.csv_base64, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(csv="is not valid base64") from None
    rows, rejected = parse_space_rows(data)
    emails = sorted(
        {
            e.casefold()
            for r in rows
            for e in (r.coachee_email, r.coach_email, r.co_coach_email)
            if e
        }
    )
    found = resolve_emails(request.tenant_id, emails) if emails else {}  # an RPC: before the writes
    set_ups: list[tuple[int, SetUp]] = []
    for row in rows:
        try:
            set_up = _row_set_up(row, found)
            check_creator(who.person_id, admin, coach_role, set_up)
            set_ups.append((row.line, set_up))
        except DomainError as exc:
            rejected.append(rejected_for(row.line, exc))
    created = []
    with db.unit_of_work() as uow:
        repo = uow.spaces.unlocked(master)
        now = uow.clock.now()
        for line, set_up in set_ups:
            space = Space.create(request.tenant_id, set_up, Content(), who.person_id, now)
            repo.add(space)
            uow.record(_event(c.SpaceCreated, space))
            created.append(c.ImportedSpace(line=line, space_id=space.id))
    return c.ImportSpacesResponse(
        created=created,
        rejected=[
            c.RejectedSpaceRow(line=r.line, reason=r.reason)
            for r in sorted(rejected, key=lambda r: r.line)
        ],
    )


def _row_set_up(row: Any, found: dict[str, tuple[str, MemberFacts]]) -> SetUp:
    """A CSV row's set-up, checked as CreateSpace checks one."""
    ids: dict[str, str] = {}
    for role, email in (
        ("coachee", row.coachee_email),
        ("coach", row.coach_email),
        ("co_coach", row.co_coach_email),
    ):
        if email:
            hit = found.get(email.casefold())
            if hit is None:
                raise invalid(**{f"{role}_email": "is not a member of this tenant"})
            ids[role] = hit[0]
    facts = {member_id: member for member_id, member in found.values()}
    given = c.SetUpInput(
        coachee_member_id=ids["coachee"],
        coach_member_id=ids["coach"],
        co_coach_member_id=ids.get("co_coach"),
        cadence=row.cadence,
        sessions_planned=row.sessions,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
    )
    return _set_up(lambda _tenant, _ids: facts, "", given)


def _visible(
    uow: SpacesUnit, master: MasterKey, who: PersonClaims, ref: Any, *, for_update: bool = False
) -> tuple[Spaces, Space, Relation]:
    repo = uow.spaces.unlocked(master)
    space = repo.get(ref.tenant_id, ref.space_id, for_update=for_update)
    if space is None:
        raise space_not_found()
    relation = space.visible_relation(who.person_id, _is_admin(who))
    if relation is not Relation.TENANT_ADMIN:
        space = repo.with_content(space)
    return repo, space, relation


def get_space(db: Db, master: MasterKey, caller: Caller, request: c.SpaceRef) -> c.Space:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        _, space, relation = _visible(uow, master, who, request)
        _visited(uow, space, relation, who)
    return space_view(space, relation)


def _visited(uow: SpacesUnit, space: Space, relation: Relation, who: PersonClaims) -> None:
    """A participant opened the space: their coach dashboard counts new notes from now."""
    if relation is not Relation.TENANT_ADMIN:
        uow.visits.record(space.id, who.person_id, uow.clock.now())


def list_spaces(
    db: Db, master: MasterKey, caller: Caller, request: c.ListSpacesRequest
) -> c.SpaceList:
    """HR: every space of the tenant, set-up and status only (their own, as a participant,
    whole). Anyone else: the spaces they take part in (a coachee's once out of draft)."""
    who = _member_of(caller, request.tenant_id)
    admin = _is_admin(who)
    views = []
    with db.read_only() as uow:
        repo = uow.spaces.unlocked(master)
        page, nxt = repo.page(
            request.tenant_id,
            None if admin else who.person_id,
            request.effective_page_size(),
            request.page_token,
        )
        for space in page:
            try:
                relation = space.visible_relation(who.person_id, admin)
            except NotFound:
                continue  # a coachee's draft
            if relation is not Relation.TENANT_ADMIN:
                space = repo.with_content(space)
            views.append(space_view(space, relation))
    return c.SpaceList(spaces=views, next_page_token=nxt)


def _change(
    db: Db,
    master: MasterKey,
    who: PersonClaims,
    ref: Any,
    change: Callable[[Space, Relation, set[Relation], datetime], type[c.SpaceEvent] | None],
) -> c.Space:
    with db.unit_of_work() as uow:
        repo, space, relation = _visible(uow, master, who, ref, for_update=True)
        relations = space.relations(who.person_id, _is_admin(who))
        event = change(space, relation, relations, uow.clock.now())
        # HR never loads the content: it is left sealed as it is.
        repo.save(space, with_content=relation is not Relation.TENANT_ADMIN)
        if event is not None:
            uow.record(_event(event, space))
    return space_view(space, relation)


def move_space(db: Db, master: MasterKey, caller: Caller, request: c.MoveSpaceRequest) -> c.Space:
    who = _member_of(caller, request.tenant_id)

    def move(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.move(request.move, relations, now)
        return c.MOVE_EVENTS[MOVE_EVENTS[request.move]]

    return _change(db, master, who, request, move)


def update_set_up(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.UpdateSetUpRequest,
) -> c.Space:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:  # a space they may not see is not found, whatever the set-up
        _visible(uow, master, who, request)
    set_up = _set_up(resolve, request.tenant_id, request.set_up)  # an RPC: outside transactions

    def change(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.change_set_up(set_up, relations, now)
        return c.SpaceSetUpChanged

    return _change(db, master, who, request, change)


def _participant(
    resolve: Resolve, tenant_id: str, field: str, member_id: str
) -> tuple[Participant, bool]:
    """The member as a coach of the space, and whether they oversee the tenant (then the
    coachee must agree first)."""
    found = resolve(tenant_id, [member_id])
    check_member_roles(found, {field: member_id}, overseers=True)
    return Participant(member_id, found[member_id][0]), oversees(found[member_id])


def _seat_changed(uow: SpacesUnit, space: Space, seat: str, previous: Participant | None) -> None:
    """The event of a seat that changed hands: the coach's or the co-coach's."""
    if seat == COACH_SEAT:
        assert previous is not None
        uow.record(_event(c.CoachChanged, space, previous_coach_person_id=previous.person_id))
    else:
        previous_id = previous.person_id if previous else None
        uow.record(_event(c.CoCoachChanged, space, previous_co_coach_person_id=previous_id))


def _change_seat(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    who: PersonClaims,
    request: Any,
    seat: str,
    member_id: str | None,
) -> c.Space:
    """ChangeCoach and ChangeCoCoach: the seat changes hands at once, or, for someone who
    oversees the tenant, a proposal waits for the coachee (spaces.coach_change_proposed)."""
    with db.read_only() as uow:
        _visible(uow, master, who, request)
    new, agreement = None, False
    if member_id:
        new, agreement = _participant(resolve, request.tenant_id, f"{seat}_member_id", member_id)
    with db.unit_of_work() as uow:
        repo, space, _relation = _visible(uow, master, who, request, for_update=True)
        relations = space.relations(who.person_id, _is_admin(who))
        change = space.change_coach if seat == COACH_SEAT else space.change_co_coach
        previous = change(
            new,  # type: ignore[arg-type]  # the coach's seat is never emptied (the contract)
            relations,
            uow.clock.now(),
            by=who.person_id,
            needs_agreement=agreement,
        )
        repo.save(space, with_content=False)
        if agreement:
            assert new is not None
            uow.record(
                _event(
                    c.CoachChangeProposed,
                    space,
                    seat=seat,
                    proposed_person_id=new.person_id,
                )
            )
        else:
            _seat_changed(uow, space, seat, previous)
    return space_view(space, space.visible_relation(who.person_id, _is_admin(who)))


def change_coach(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.ChangeCoachRequest,
) -> c.Space:
    who = _member_of(caller, request.tenant_id)
    return _change_seat(db, master, resolve, who, request, COACH_SEAT, request.coach_member_id)


def change_co_coach(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.ChangeCoCoachRequest,
) -> c.Space:
    who = _member_of(caller, request.tenant_id)
    return _change_seat(
        db, master, resolve, who, request, CO_COACH_SEAT, request.co_coach_member_id
    )


def pending_coach_view(space: Space) -> c.PendingCoachChange | None:
    p = space.pending
    if p is None:
        return None
    proposed = _participant_view(p.participant)
    assert proposed is not None
    return c.PendingCoachChange(
        seat=p.seat,  # type: ignore[arg-type]
        proposed=proposed,
        proposed_by=p.proposed_by,
        proposed_at=p.proposed_at,
    )


def get_pending_coach_change(
    db: Db, master: MasterKey, caller: Caller, request: c.PendingCoachChangeRequest
) -> c.PendingCoachChange:
    """The coachee's: the coach change waiting for their agreement."""
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        _, space, _relation = _visible(uow, master, who, request)
        space.pending_for(space.relations(who.person_id, _is_admin(who)))
    found = pending_coach_view(space)
    assert found is not None
    return found


def accept_coach_change(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.PendingCoachChangeRequest,
) -> c.Space:
    """The coachee agrees: the proposed person takes the seat, if they still may coach here
    (a member with the COACH role, active or invited), and the usual event follows."""
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        _, space, _relation = _visible(uow, master, who, request)
        pending = space.pending_for(space.relations(who.person_id, _is_admin(who)))
    member_id = pending.participant.member_id
    try:
        check_member_roles(
            resolve(request.tenant_id, [member_id]),
            {f"{pending.seat}_member_id": member_id},
            overseers=True,
        )
    except DomainError:
        raise FailedPrecondition(
            "The proposed coach can no longer coach in this organisation; decline the change.",
            reason="PROPOSED_COACH_UNAVAILABLE",
        ) from None
    with db.unit_of_work() as uow:
        repo, space, relation = _visible(uow, master, who, request, for_update=True)
        relations = space.relations(who.person_id, _is_admin(who))
        if space.pending != pending:  # answered or replaced meanwhile
            raise FailedPrecondition(
                "The proposed coach change was replaced or answered meanwhile; look again.",
                reason="COACH_CHANGE_REPLACED",
            )
        accepted, previous = space.accept_pending(relations, uow.clock.now())
        repo.save(space, with_content=relation is not Relation.TENANT_ADMIN)
        _seat_changed(uow, space, accepted.seat, previous)
    return space_view(space, space.visible_relation(who.person_id, _is_admin(who)))


def decline_coach_change(
    db: Db, master: MasterKey, caller: Caller, request: c.PendingCoachChangeRequest
) -> c.Space:
    """The coachee declines: the set-up stays as it is (no event: nothing changed)."""
    who = _member_of(caller, request.tenant_id)

    def decline(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.decline_pending(relations, now)
        return None

    return _change(db, master, who, request, decline)


def share_earlier_content(
    db: Db, master: MasterKey, caller: Caller, request: c.SpaceRef
) -> c.Space:
    """The coachee lets the coach and co-coach of now read what was written before they
    joined (no event: nobody else keeps a copy of it)."""
    who = _member_of(caller, request.tenant_id)

    def share(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.share_earlier_content(relations, now)
        return None

    return _change(db, master, who, request, share)


def update_content(
    db: Db, master: MasterKey, caller: Caller, request: c.UpdateContentRequest
) -> c.Space:
    who = _member_of(caller, request.tenant_id)
    changes = {name: getattr(request, name) for name in request.update_mask}

    def change(space: Space, relation: Relation, _: set[Relation], now: datetime) -> Any:
        space.change_content(changes, relation, now)
        return None  # content is nobody else's business: no event

    return _change(db, master, who, request, change)


def get_coach_roster(
    db: Db, master: MasterKey, caller: Caller, request: c.ListSpacesRequest
) -> c.CoachRoster:
    """The caller's coachees in this tenant: each space they coach, its status and last
    activity, most recent first (no content)."""
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo = uow.spaces.unlocked(master)
        rows = repo.roster(request.tenant_id, who.person_id)
        entries = []
        since: dict[str, datetime | None] = {}
        for row, last in rows:
            space = repo.from_row(row)
            relation = space.visible_relation(who.person_id, False)
            view = space_view(space, Relation.TENANT_ADMIN).model_copy(
                update={"relation": relation.value}
            )
            entries.append(c.RosterEntry(space=view, last_activity_at=last))
            # New since the last visit, among the notes the coach may read (Note.readable_by).
            marks = [t for t in (row.visited_at, space.earlier_hidden_from(relation)) if t]
            since[space.id] = max(marks) if marks else None
        new = uow.visits.new_shared_notes(who.person_id, since)
    return c.CoachRoster(
        entries=[
            e.model_copy(update={"new_shared_notes": new.get(e.space.space_id, 0)}) for e in entries
        ]
    )


def rotate_tenant_key(
    db: Db, master: MasterKey, caller: Caller, request: c.TenantRef
) -> c.TenantKeyRotation:
    """Operators: a new key for the tenant, every space's data key re-wrapped under it in
    batches (the content itself is not touched, so nothing waits and no edit is lost), then the
    older tenant keys deleted."""
    require_operator(caller)
    with db.unit_of_work() as uow:
        key_id = uow.spaces.unlocked(master).keys.rotate_tenant(request.tenant_id, uow.clock.now())
    rewrapped = 0
    while True:
        with db.unit_of_work() as uow:
            moved = uow.spaces.unlocked(master).rewrap_batch(request.tenant_id, uow.clock.now())
        rewrapped += moved
        if moved == 0:
            break
    with db.unit_of_work() as uow:
        repo = uow.spaces.unlocked(master)
        in_use = repo.key_ids_in_use(request.tenant_id)
        retired = repo.keys.retire_unused(request.tenant_id, in_use)
    return c.TenantKeyRotation(key_id=key_id, rewrapped=rewrapped, retired=retired)


# ---------------------------------------------------------------- personal data


def export_personal_data(db: Db, master: MasterKey, caller: Caller) -> ic.PersonalDataExport:
    """The caller's own spaces as coachee, content included, and the spaces they coach (their
    set-up: the coachee's words are the coachee's)."""
    caller = require_person(caller)
    with db.read_only() as uow:
        repo = uow.spaces.unlocked(master)
        own = []
        for space in repo.of_coachee(caller.person_id):
            view = space_view(space, Relation.COACHEE).model_dump(mode="json")
            view["goals"] = _all_goals_with_history(repo, space)
            view.update(_notes_of(repo, space, caller.person_id))
            own.append(view)
        coached = []
        for s in repo.coached_by(caller.person_id):
            relation = (
                Relation.COACH
                if s.set_up.coach.person_id == caller.person_id
                else Relation.CO_COACH
            )
            view = space_view(s, Relation.TENANT_ADMIN)  # set-up only
            entry = view.model_copy(update={"relation": relation.value}).model_dump(mode="json")
            # Their own words: their private notes, and the shared notes they wrote.
            mine = _notes_of(repo, s, caller.person_id)
            entry["notes"] = [n for n in mine["notes"] if n["author_person_id"] == caller.person_id]
            coached.append(entry)
        visits = uow.visits.of_person(caller.person_id)
        now = uow.clock.now()
    return ic.PersonalDataExport(
        service=c.SERVICE,
        exported_at=now,
        data={
            "spaces_as_coachee": own,
            "spaces_as_coach": coached,
            "space_visits": visits,
        },
    )


def erase_personal_data(uow: SpacesUnit, master: MasterKey, event: ic.PersonErased) -> None:
    """A coachee's spaces go whole, their data keys with them (so nothing sealed by them can be
    read again, backups included once they expire), the coach's private notes about them
    included. A coach's spaces stay for their coachees: the coach's private notes go, the shared
    notes they wrote stay, signed by a former participant. Safe to apply twice (a replay)."""
    repo = uow.spaces.unlocked(master)
    for space in repo.of_coachee(event.person_id):
        repo.delete(space.id)  # goals, notes, revisions and reads go with it
    for tenant_id, space_id in uow.authors.spaces_with_shared_notes_by(event.person_id):
        kept = repo.get(tenant_id, space_id)
        if kept is not None:  # sealed for their author: sealed again for "a former participant"
            _notes(repo, kept).reseal_for_author(space_id, event.person_id, ERASED_PERSON)
    uow.authors.erase(event.person_id)
    done = completion_event(c.SERVICE)
    uow.record(done(erasure_id=event.erasure_id, person_id=event.person_id))


# ---------------------------------------------------------------- goals


def _content_relation(
    uow: SpacesUnit, master: MasterKey, who: PersonClaims, ref: Any, *, for_update: bool = False
) -> tuple[Spaces, Space, Relation]:
    """The space, for someone who may read its content (coachee, coach, co-coach). HR sees the
    space but not what is in it: PERMISSION_DENIED."""
    repo, space, relation = _visible(uow, master, who, ref, for_update=for_update)
    if relation is Relation.TENANT_ADMIN:
        raise PermissionDenied(
            "A space's goals and notes are for its coachee and coaches only.",
            reason="CONTENT_FORBIDDEN",
        )
    return repo, space, relation


def _writable(space: Space) -> None:
    if space.status == ARCHIVED:
        raise FailedPrecondition("An archived space is read only.", reason="SPACE_ARCHIVED")


def goal_view(goal: Goal) -> c.Goal:
    return c.Goal(
        goal_id=goal.id,
        space_id=goal.space_id,
        tenant_id=goal.tenant_id,
        title=goal.title,
        description=goal.description,
        due_on=goal.due_on,
        progress=goal.progress,
        status=goal.status,  # type: ignore[arg-type]
        milestones=[
            c.MilestoneView(id=m.id, title=m.title, due_on=m.due_on, done=m.done)
            for m in goal.milestones
        ],
        created_by=goal.created_by,
        created_at=goal.created_at,
        updated_at=goal.updated_at,
    )


def _goals(repo: Spaces, space: Space) -> Goals:
    return repo.goals_of(space)


def _goal_values(given: c.GoalInput, fields: list[str]) -> dict[str, Any]:
    values = given.model_dump()
    return {name: values[name] for name in fields}


def create_goal(db: Db, master: MasterKey, caller: Caller, request: c.CreateGoalRequest) -> c.Goal:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, _ = _content_relation(uow, master, who, request)
        _writable(space)
        now = uow.clock.now()
        values = _goal_values(request.goal, list(EDITABLE))
        goal = Goal.create(space.id, space.tenant_id, values, who.person_id, now)
        achieved = goal.achieved_now()
        created = {k: [None, v] for k, v in goal_view(goal).model_dump(mode="json").items()}
        _goals(repo, space).add(goal, {k: created[k] for k in (*EDITABLE, "status")})
        if achieved:
            uow.record(_achieved(goal, now))
    return goal_view(goal)


def _achieved(goal: Goal, now: datetime) -> c.GoalAchieved:
    return c.GoalAchieved(
        goal_id=goal.id, space_id=goal.space_id, tenant_id=goal.tenant_id, achieved_at=now
    )


def _goal_of(
    goals: Goals, ref: Any, hidden_before: datetime | None, *, for_update: bool = False
) -> Goal:
    """`hidden_before`: a goal set before a late coach joined is not theirs to see yet."""
    goal = goals.get(ref.space_id, ref.goal_id, for_update=for_update)
    if goal is None or (hidden_before is not None and goal.created_at < hidden_before):
        raise NotFound("No such goal.", reason="GOAL_NOT_FOUND")
    return goal


def update_goal(db: Db, master: MasterKey, caller: Caller, request: c.UpdateGoalRequest) -> c.Goal:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        _writable(space)
        goals = _goals(repo, space)
        goal = _goal_of(goals, request, space.earlier_hidden_from(relation), for_update=True)
        now = uow.clock.now()
        before = goal.status
        changes = goal.apply(_goal_values(request.goal, list(request.update_mask)))
        achieved = goal.achieved_now()
        if goal.status != before:
            changes["status"] = [before, goal.status]
        if changes:
            goal.updated_at = now
            goals.save(goal, who.person_id, changes)
        if achieved:
            uow.record(_achieved(goal, now))
    return goal_view(goal)


def archive_goal(db: Db, master: MasterKey, caller: Caller, request: c.GoalRef) -> c.Goal:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        _writable(space)
        goals = _goals(repo, space)
        goal = _goal_of(goals, request, space.earlier_hidden_from(relation), for_update=True)
        before = goal.status
        goal.archive()
        goal.updated_at = uow.clock.now()
        goals.save(goal, who.person_id, {"status": [before, goal.status]})
    return goal_view(goal)


def get_goal(db: Db, master: MasterKey, caller: Caller, request: c.GoalRef) -> c.Goal:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        goal = _goal_of(_goals(repo, space), request, space.earlier_hidden_from(relation))
    return goal_view(goal)


def list_goals(
    db: Db, master: MasterKey, caller: Caller, request: c.ListGoalsRequest
) -> c.GoalList:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        found, nxt = _goals(repo, space).of_space(
            space.id,
            request.effective_page_size(),
            request.page_token,
            since=space.earlier_hidden_from(relation),
        )
    return c.GoalList(goals=[goal_view(g) for g in found], next_page_token=nxt)


def goal_history(
    db: Db, master: MasterKey, caller: Caller, request: c.GoalHistoryRequest
) -> c.GoalHistory:
    """Every change of the goal, oldest first: who, when, each field's before and after."""
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        goals = _goals(repo, space)
        goal = _goal_of(goals, request, space.earlier_hidden_from(relation))
        rows, nxt = goals.history(goal.id, request.effective_page_size(), request.page_token)
    return c.GoalHistory(changes=[c.GoalChange(**r) for r in rows], next_page_token=nxt)


def _all_goals_with_history(repo: Spaces, space: Space) -> list[dict[str, Any]]:
    goals = _goals(repo, space)
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        page, token = goals.of_space(space.id, 500, token)
        for goal in page:
            entry = goal_view(goal).model_dump(mode="json")
            entry["history"] = []
            more = ""
            while True:
                changes, more = goals.history(goal.id, 500, more)
                entry["history"] += [c.GoalChange(**ch).model_dump(mode="json") for ch in changes]
                if not more:
                    break
            found.append(entry)
        if not token:
            return found


# ---------------------------------------------------------------- notes


def note_view(note: Note) -> c.Note:
    return c.Note(
        note_id=note.id,
        space_id=note.space_id,
        tenant_id=note.tenant_id,
        kind=note.kind,  # type: ignore[arg-type]
        author_person_id="" if note.author_id == ERASED_PERSON else note.author_id,
        author_erased=note.author_id == ERASED_PERSON,
        parent_note_id=note.parent_id,
        body=note.body,
        body_html=note.body_html or render_markdown(note.body),
        links=[c.LinkView(url=link.url, title=link.title) for link in note.links],
        session_id=note.session_id,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )


def _notes(repo: Spaces, space: Space) -> Notes:
    return repo.notes_of(space)


def create_note(db: Db, master: MasterKey, caller: Caller, request: c.CreateNoteRequest) -> c.Note:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        _writable(space)
        notes = _notes(repo, space)
        parent = None
        if request.parent_note_id:
            parent = notes.get(space.id, request.parent_note_id)
            hidden = space.earlier_hidden_from(relation)
            if parent is None or not parent.readable_by(who.person_id, relation, hidden):
                raise note_not_found()
        now = uow.clock.now()
        note = Note.create(
            space.id,
            space.tenant_id,
            request.kind,
            who.person_id,
            relation,
            request.body,
            [link.model_dump() for link in request.links],
            parent,
            now,
            session_id=_linked_session(uow, space, request.session_id),
        )
        notes.add(note)
        if note.kind == SHARED:
            uow.record(
                c.NoteShared(
                    note_id=note.id,
                    space_id=space.id,
                    tenant_id=space.tenant_id,
                    author_person_id=who.person_id,
                    shared_at=now,
                )
            )
    return note_view(note)


def _linked_session(uow: SpacesUnit, space: Space, session_id: str | None) -> str | None:
    """A session of this very space (known from scheduling's events), or NOT_FOUND."""
    if session_id is not None and not uow.space_sessions.has(space.id, session_id):
        raise NotFound("No such session in this space.", reason="SESSION_NOT_FOUND")
    return session_id


def record_session(uow: SpacesUnit, event: Any) -> None:
    uow.space_sessions.record(event.session_id, event.space_id, event.tenant_id)


def get_note(db: Db, master: MasterKey, caller: Caller, request: c.NoteRef) -> c.Note:
    """One note, recorded in the access log. A note the caller may not read is a refused read
    (recorded as such, for operators) and looks like one that does not exist."""
    who = _member_of(caller, request.tenant_id)
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        try:
            repo, space, relation = _content_relation(uow, master, who, request)
            notes = _notes(repo, space)
            note = notes.get(space.id, request.note_id)
            if note is None or note.deleted_at is not None:
                raise note_not_found()
            if not note.readable_by(who.person_id, relation, space.earlier_hidden_from(relation)):
                raise note_not_found()
        except DomainError as exc:
            head = uow.notes.head(request.tenant_id, request.space_id, request.note_id)
            if head is None:
                raise  # nothing there: nothing to record
            uow.notes.record_reads(
                request.space_id, request.tenant_id, [head.id], who.person_id, now, refused=True
            )
            refused = exc
        else:
            notes.record_reads(space.id, space.tenant_id, [note.id], who.person_id, now)
    if refused is not None:  # after the commit: the refused read stays recorded
        raise refused
    return note_view(note)


def list_notes(
    db: Db, master: MasterKey, caller: Caller, request: c.ListNotesRequest
) -> c.NoteList:
    """The latest notes the caller may read, newest first; each one returned is a read."""
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        notes = _notes(repo, space)
        found, nxt = notes.readable_page(
            space.id,
            who.person_id,
            list(request.kinds),
            request.effective_page_size(),
            request.page_token,
            hidden_before=space.earlier_hidden_from(relation),
        )
        notes.record_reads(
            space.id, space.tenant_id, [n.id for n in found], who.person_id, uow.clock.now()
        )
        _visited(uow, space, relation, who)
    return c.NoteList(notes=[note_view(n) for n in found], next_page_token=nxt)


def _own_note(
    notes: Notes, space: Space, request: Any, who: PersonClaims, relation: Relation
) -> Note:
    note = notes.get(space.id, request.note_id, for_update=True)
    if note is None or not note.readable_by(who.person_id, relation):
        raise note_not_found()
    return note


def update_note(db: Db, master: MasterKey, caller: Caller, request: c.UpdateNoteRequest) -> c.Note:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        _writable(space)
        notes = _notes(repo, space)
        note = _own_note(notes, space, request, who, relation)
        changes: dict[str, Any] = {}
        if "body" in request.update_mask:
            changes["body"] = request.body
        if "links" in request.update_mask:
            changes["links"] = [link.model_dump() for link in request.links]
        if "session_id" in request.update_mask:
            changes["session_id"] = _linked_session(uow, space, request.session_id)
        previous = note.edit(who.person_id, changes, uow.clock.now())
        notes.save(note, previous if "body" in changes and previous != note.body else None)
    return note_view(note)


def delete_note(db: Db, master: MasterKey, caller: Caller, request: c.NoteRef) -> Empty:
    """The author deletes their note: its body, links and revisions go (a thread keeps its
    place, empty)."""
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        notes = _notes(repo, space)
        note = _own_note(notes, space, request, who, relation)
        note.delete(who.person_id, uow.clock.now())
        notes.save(note, None)
    return Empty()


def list_note_revisions(
    db: Db, master: MasterKey, caller: Caller, request: c.NotePageRequest
) -> c.NoteRevisionList:
    """The earlier bodies of a note, newest first, for whoever may read the note."""
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = _content_relation(uow, master, who, request)
        notes = _notes(repo, space)
        note = notes.get(space.id, request.note_id)
        if (
            note is None
            or note.deleted_at is not None
            or not note.readable_by(who.person_id, relation, space.earlier_hidden_from(relation))
        ):
            raise note_not_found()
        rows, nxt = notes.revisions(note.id, request.effective_page_size(), request.page_token)
    return c.NoteRevisionList(revisions=[c.NoteRevision(**r) for r in rows], next_page_token=nxt)


def _reads_view(rows: list[dict[str, Any]], nxt: str) -> c.NoteReadList:
    return c.NoteReadList(
        reads=[
            c.NoteRead(
                note_id=r["note_id"],
                space_id=r["space_id"],
                tenant_id=r["tenant_id"],
                reader_person_id=r["reader_id"],
                read_at=r["created_at"],
            )
            for r in rows
        ],
        next_page_token=nxt,
    )


def list_note_reads(
    db: Db, master: MasterKey, caller: Caller, request: c.SpacePageRequest
) -> c.NoteReadList:
    """Who opened which note and when: only about the notes the caller may read (a coach's
    private notes: their author; the journal: the coachee). Refused reads are not reads."""
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        _, space, relation = _content_relation(uow, master, who, request)
        rows, nxt = uow.notes.reads_visible_to(
            request.space_id,
            who.person_id,
            request.effective_page_size(),
            request.page_token,
            hidden_before=space.earlier_hidden_from(relation),
        )
    return _reads_view(rows, nxt)


def list_refused_note_reads(db: Db, caller: Caller, request: PageRequest) -> c.NoteReadList:
    """Operators: the refused reads of every tenant (who tried to open which note, when)."""
    require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = uow.notes.refused_reads(request.effective_page_size(), request.page_token)
    return _reads_view(rows, nxt)


def _notes_of(repo: Spaces, space: Space, person_id: str) -> dict[str, Any]:
    notes = _notes(repo, space)
    readable = notes.all_readable(space.id, person_id)
    reads = notes.all_reads_visible_to(space.id, person_id)
    return {
        "notes": [note_view(n).model_dump(mode="json") for n in readable],
        "note_reads": [
            {
                "note_id": r["note_id"],
                "reader_person_id": r["reader_id"],
                "read_at": r["created_at"].isoformat(),
            }
            for r in reads
        ],
    }
