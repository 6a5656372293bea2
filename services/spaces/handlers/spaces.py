"""A space's lifecycle: creation (one or an import), reading, listing, set-up, content and
status moves."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.contracts import spaces as c
from services.kernel.caller import Caller, PersonClaims, member_of
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    invalid,
)

from ..domain.importing import parse_space_rows, rejected_for
from ..domain.model import (
    MOVE_EVENTS,
    Content,
    MemberFacts,
    Relation,
    SetUp,
    Space,
    check_creator,
)
from ..storage.unit import Db
from .access import is_admin, visible, visited
from .set_ups import Resolve, ResolveEmails, resolve_set_up
from .views import space_event, space_view


def create_space(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.CreateSpaceRequest,
) -> c.Space:
    """A tenant admin, or the coach of the space to be, opens a draft."""
    who = member_of(caller, request.tenant_id)
    set_up = resolve_set_up(
        resolve, request.tenant_id, request.set_up
    )  # an RPC: before the transaction
    check_creator(who.person_id, is_admin(who), who.has_role("coach"), set_up)
    content = Content().changed(request.content.model_dump())
    with db.unit_of_work() as uow:
        space = Space.create(request.tenant_id, set_up, content, who.person_id, uow.clock.now())
        uow.spaces.unlocked(master).add(space)
        uow.record(space_event(c.SpaceCreated, space))
    return space_view(space, space.visible_relation(who.person_id, is_admin(who)))


def import_spaces(
    db: Db,
    master: MasterKey,
    resolve_emails: ResolveEmails,
    caller: Caller,
    request: c.ImportSpacesRequest,
) -> c.ImportSpacesResponse:
    """Drafts from a CSV of coachee and coach emails, all good rows in one transaction; every
    other row reported with its line and why. A coach opens only spaces they coach."""
    who = member_of(caller, request.tenant_id)
    admin, coach_role = is_admin(who), who.has_role("coach")
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
            uow.record(space_event(c.SpaceCreated, space))
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
    return resolve_set_up(lambda _tenant, _ids: facts, "", given)


def get_space(db: Db, master: MasterKey, caller: Caller, request: c.SpaceRef) -> c.Space:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        _, space, relation = visible(uow, master, who, request)
        visited(uow, space, relation, who)
    return space_view(space, relation)


def list_spaces(
    db: Db, master: MasterKey, caller: Caller, request: c.ListSpacesRequest
) -> c.SpaceList:
    """HR: every space of the tenant, set-up and status only (their own, as a participant,
    whole). Anyone else: the spaces they take part in (a coachee's once out of draft)."""
    who = member_of(caller, request.tenant_id)
    admin = is_admin(who)
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


def change_space(
    db: Db,
    master: MasterKey,
    who: PersonClaims,
    ref: Any,
    change: Callable[[Space, Relation, set[Relation], datetime], type[c.SpaceEvent] | None],
) -> c.Space:
    with db.unit_of_work() as uow:
        repo, space, relation = visible(uow, master, who, ref, for_update=True)
        relations = space.relations(who.person_id, is_admin(who))
        event = change(space, relation, relations, uow.clock.now())
        # HR never loads the content: it is left sealed as it is.
        repo.save(space, with_content=relation is not Relation.TENANT_ADMIN)
        if event is not None:
            uow.record(space_event(event, space))
    return space_view(space, relation)


def move_space(db: Db, master: MasterKey, caller: Caller, request: c.MoveSpaceRequest) -> c.Space:
    who = member_of(caller, request.tenant_id)

    def move(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.move(request.move, relations, now)
        return c.MOVE_EVENTS[MOVE_EVENTS[request.move]]

    return change_space(db, master, who, request, move)


def update_set_up(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.UpdateSetUpRequest,
) -> c.Space:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:  # a space they may not see is not found, whatever the set-up
        visible(uow, master, who, request)
    set_up = resolve_set_up(
        resolve, request.tenant_id, request.set_up
    )  # an RPC: outside transactions

    def change(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.change_set_up(set_up, relations, now)
        return c.SpaceSetUpChanged

    return change_space(db, master, who, request, change)


def update_content(
    db: Db, master: MasterKey, caller: Caller, request: c.UpdateContentRequest
) -> c.Space:
    who = member_of(caller, request.tenant_id)
    changes: dict[str, str] = {name: getattr(request, name) for name in request.update_mask}

    def change(space: Space, relation: Relation, _: set[Relation], now: datetime) -> Any:
        space.change_content(changes, relation, now)
        return None  # content is nobody else's business: no event

    return change_space(db, master, who, request, change)
