"""A space's toolbox (ADR 0018): the coach's and co-coach's methods, the coachee's read-only
list, the rules evaluated on scheduling's, assessment's and content's events, the date sweep
and the neutral mails of unlocks.

Every unlock writes its `spaces.tool_unlocked` event and the mail it owes the coachee in the
transaction that unlocks the tool: whichever instance (event consumer or sweep) gets there
first, the tool unlocks once and one mail is owed; the mail sweep claims each one once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from services.contracts import spaces as c
from services.contracts.base import Empty
from services.contracts.identity import ContactDetails
from services.kernel.caller import Caller, member_of
from services.kernel.crypto import MasterKey
from services.kernel.errors import PermissionDenied
from services.kernel.i18n import zone_of
from services.kernel.runtime.mailer import Mailer

from ..domain.model import ACTIVE, Relation, Space, space_not_found
from ..domain.toolbox import (
    ASSESSMENT,
    MODULE,
    RESOURCE,
    UNLOCKED,
    Facts,
    Rule,
    Tool,
    Toolbox,
)
from ..mails import space_link
from ..storage.unit import Db, SpacesUnit
from .access import visible, writable

log = logging.getLogger(__name__)

# person ids -> their contact details (identity's contact_details; erased people absent)
Contacts = Callable[[list[str]], list[ContactDetails]]

COACHES = (Relation.COACH, Relation.CO_COACH)


# ---------------------------------------------------------------- views


def _reason(r: Any) -> c.LockReason:
    return c.LockReason(
        kind=r.kind, on_date=r.on_date, sessions_held=r.sessions_held, tool_id=r.tool_id
    )


def tool_view(tool: Tool, relation: Relation, facts: Facts) -> c.Tool:
    coach = relation in COACHES
    open_to_coachee = tool.state == UNLOCKED
    rule = tool.rule
    return c.Tool(
        tool_id=tool.id,
        space_id=tool.space_id,
        tenant_id=tool.tenant_id,
        kind=c.ToolKind(tool.kind),
        target_id=tool.target_id if coach or open_to_coachee else None,
        label=tool.label,
        template=tool.template if coach or open_to_coachee else "",
        position=tool.position,
        state=c.ToolState(tool.state),
        done=tool.done,
        rule=c.ToolRule(
            on_date=rule.on_date,
            after_sessions_held=rule.after_sessions_held,
            after_tool_id=rule.after_tool_id,
            by_hand=rule.by_hand,
        )
        if coach
        else None,
        locked_reasons=[_reason(r) for r in tool.reasons(facts)],
        unlocked_at=tool.unlocked_at,
        created_at=tool.created_at,
        updated_at=tool.updated_at,
    )


def tool_event(kind: type[c.ToolEvent], tool: Tool) -> c.ToolEvent:
    return kind(
        tool_id=tool.id,
        space_id=tool.space_id,
        tenant_id=tool.tenant_id,
        kind=c.ToolKind(tool.kind),
        target_id=tool.target_id,
        state=c.ToolState(tool.state),
        done=tool.done,
        updated_at=tool.updated_at,
    )


# ---------------------------------------------------------------- rules


def _facts(uow: SpacesUnit, space_id: str, now: datetime) -> Facts:
    return Facts(now=now, sessions_held=uow.space_sessions.held(space_id))


def unlocked(uow: SpacesUnit, space: Space, opened: list[Tool], now: datetime) -> None:
    """What each unlock owes: its event, and a neutral mail to the coachee of an active space
    (a draft's coachee does not see the space yet)."""
    for tool in opened:
        uow.record(tool_event(c.ToolUnlocked, tool))
        if space.status == ACTIVE:
            uow.tool_mails.owe(tool, space.set_up.coachee.person_id, now)


def advance(uow: SpacesUnit, tenant_id: str, space_id: str, box: Toolbox | None = None) -> None:
    """Evaluates the space's rules now; unlocks the tools whose rule is met."""
    space = uow.spaces.get(tenant_id, space_id)
    if space is None:
        return
    now = uow.clock.now()
    box = box or uow.tools.toolbox(space_id, for_update=True)
    opened = box.evaluate(_facts(uow, space_id, now))
    for tool in opened:
        uow.tools.save(tool)
    unlocked(uow, space, opened, now)


SESSION_STATES = {
    "scheduling.session_booked": "booked",
    "scheduling.session_held": "held",
    "scheduling.session_no_show": "no_show",
    "scheduling.session_cancelled": "cancelled",
}


def session_changed(uow: SpacesUnit, event: Any, event_type: str, sequence: int) -> None:
    """A session's latest state (by the envelope's sequence); held sessions may unlock tools.
    A correction (held, then no-show or cancelled) locks nothing again (ADR 0018)."""
    changed = uow.space_sessions.record_state(
        event.session_id, event.space_id, event.tenant_id, SESSION_STATES[event_type], sequence
    )
    if changed:
        advance(uow, event.tenant_id, event.space_id)


DONE_BY = {
    "assessment.attempt_submitted": ASSESSMENT,
    "content.module_completed": MODULE,
    "content.recommendation_marked": RESOURCE,
}


def target_done(uow: SpacesUnit, event_type: str, target_id: str, event: Any) -> None:
    """An assessment submitted, a module completed, a resource marked read: its tools are
    done (`spaces.tool_done`), and the tools waiting for them may unlock."""
    if event_type == "content.recommendation_marked" and event.status != "read":
        return
    kind = DONE_BY[event_type]
    now = uow.clock.now()
    for space_id in uow.tools.spaces_of_target(event.tenant_id, kind, target_id):
        box = uow.tools.toolbox(space_id, for_update=True)
        for tool in box.live:
            if tool.kind == kind and tool.target_id == target_id and tool.mark_done(now):
                uow.tools.save(tool)
                uow.record(tool_event(c.ToolDone, tool))
        advance(uow, event.tenant_id, space_id, box)


def sweep_dates(db: Db) -> int:
    """The timer's: tools whose date came unlock (their rows claimed with SKIP LOCKED: one
    instance does each); how many spaces were looked at."""
    with db.unit_of_work() as uow:
        due = uow.tools.claim_due_spaces(uow.clock.now())
        for tenant_id, space_id in due:
            advance(uow, tenant_id, space_id)
    return len(due)


def send_mails(db: Db, contacts: Contacts, mailer: Mailer, public_url: str) -> int:
    """Claims the unlock mails owed (once each across instances), commits, sends one neutral
    mail per coachee; released if it cannot be sent. How many were sent."""
    with db.unit_of_work() as uow:
        claimed = uow.tool_mails.claim(uow.clock.now())
    if not claimed:
        return 0
    try:
        found = {w.person_id: w for w in contacts([p for p, _, _ in claimed])}
    except Exception:
        with db.unit_of_work() as uow:
            uow.tool_mails.release([i for _, _, ids in claimed for i in ids])
        raise
    sent = 0
    for person, space_id, ids in claimed:
        who = found.get(person)
        if who is None:  # erased meanwhile: nobody to tell
            continue
        try:
            mailer.send(
                who.email,
                who.locale,
                "tool_unlocked",
                name=who.display_name or who.email,
                link=space_link(public_url, space_id),
            )
            sent += 1
        except Exception:
            log.exception("an unlock mail could not be sent; the next sweep tries again")
            with db.unit_of_work() as uow:
                uow.tool_mails.release(ids)
    return sent


# ---------------------------------------------------------------- methods


def _space(
    uow: SpacesUnit, master: MasterKey, caller: Caller, ref: Any
) -> tuple[Any, Space, Relation]:
    """The space for its coachee, coach or co-coach; anyone else (HR included: the toolbox is
    none of theirs) gets NOT_FOUND."""
    who = member_of(caller, ref.tenant_id)
    repo, space, relation = visible(uow, master, who, ref)
    if relation is Relation.TENANT_ADMIN:
        raise space_not_found()
    return repo, space, relation


def _coach(uow: SpacesUnit, master: MasterKey, caller: Caller, ref: Any) -> tuple[Any, Space]:
    repo, space, relation = _space(uow, master, caller, ref)
    if relation not in COACHES:
        raise PermissionDenied(
            "Only the space's coach or co-coach changes its toolbox.", reason="TOOLBOX_COACH_ONLY"
        )
    writable(space)
    return repo, space


def _rule(given: c.ToolRule) -> Rule:
    return Rule(
        on_date=given.on_date,
        after_sessions_held=given.after_sessions_held,
        after_tool_id=given.after_tool_id,
        by_hand=given.by_hand,
    ).check()


def unlocks_at(contacts: Contacts, space: Space, rule: Rule) -> datetime | None:
    """00:00 of the rule's date in the coachee's time zone (UTC if identity has none)."""
    if rule.on_date is None:
        return None
    found = contacts([space.set_up.coachee.person_id])
    zone = zone_of(found[0].time_zone if found else "")
    return datetime.combine(rule.on_date, time(0), tzinfo=zone)


def _answer(uow: SpacesUnit, tool: Tool, relation: Relation) -> c.Tool:
    return tool_view(tool, relation, _facts(uow, tool.space_id, uow.clock.now()))


def add_tool(
    db: Db, master: MasterKey, contacts: Contacts, caller: Caller, request: c.AddToolRequest
) -> c.Tool:
    rule = _rule(request.rule)
    with db.read_only() as uow:
        _, space = _coach(uow, master, caller, request)
    at = unlocks_at(contacts, space, rule)  # identity asked outside the transaction
    with db.unit_of_work() as uow:
        repo, space = _coach(uow, master, caller, request)
        tools = repo.tools_of(space)
        box = tools.toolbox(space.id, for_update=True)
        now = uow.clock.now()
        tool = box.add(
            Tool.create(
                space.id,
                space.tenant_id,
                request.kind.value,
                request.target_id,
                request.label,
                request.template,
                rule,
                at,
                0,
                now,
            )
        )
        tools.add(tool)
        uow.record(tool_event(c.ToolAdded, tool))
        advance(uow, space.tenant_id, space.id, box)
        return _answer(uow, tool, Relation.COACH)


def update_tool(
    db: Db, master: MasterKey, contacts: Contacts, caller: Caller, request: c.UpdateToolRequest
) -> c.Tool:
    rule = _rule(request.rule) if "rule" in request.update_mask else None
    at = None
    if rule is not None and rule.on_date is not None:
        with db.read_only() as uow:
            _, space = _coach(uow, master, caller, request)
        at = unlocks_at(contacts, space, rule)
    with db.unit_of_work() as uow:
        repo, space = _coach(uow, master, caller, request)
        tools = repo.tools_of(space)
        box = tools.toolbox(space.id, for_update=True)
        tool = box.get(request.tool_id)
        if rule is not None:
            box.change_rule(tool, rule)
        tool.change(
            uow.clock.now(),
            label=request.label if "label" in request.update_mask else None,
            template=request.template if "template" in request.update_mask else None,
            rule=rule,
            unlocks_at=at,
        )
        tools.save(tool, texts=True)
        advance(uow, space.tenant_id, space.id, box)
        return _answer(uow, tool, Relation.COACH)


def list_tools(db: Db, master: MasterKey, caller: Caller, request: c.SpaceRef) -> c.ToolList:
    """The coach and co-coach see every tool and its rule; the coachee sees the tools in
    order, a locked one with why (`locked_reasons`), its target and text once unlocked."""
    # One snapshot: the sessions held and the tools they unlocked read at the same instant
    # (under read_only, each statement on its own snapshot, CI once saw 2 sessions held beside
    # a tool still locked by "after 2 sessions", with no reason left: a torn read).
    with db.snapshot() as uow:
        repo, space, relation = _space(uow, master, caller, request)
        held = uow.space_sessions.held(space.id)
        box = repo.tools_of(space).toolbox(space.id)
        facts = Facts(uow.clock.now(), held, box.done_ids())
    return c.ToolList(
        tools=[tool_view(t, relation, facts) for t in box.live],
        sessions_held=facts.sessions_held,
    )


def unlock_tool(db: Db, master: MasterKey, caller: Caller, request: c.ToolRef) -> c.Tool:
    with db.unit_of_work() as uow:
        repo, space = _coach(uow, master, caller, request)
        tools = repo.tools_of(space)
        tool = tools.toolbox(space.id, for_update=True).get(request.tool_id)
        now = uow.clock.now()
        if tool.unlock(now):
            tools.save(tool)
            unlocked(uow, space, [tool], now)
        return _answer(uow, tool, Relation.COACH)


def lock_tool(db: Db, master: MasterKey, caller: Caller, request: c.ToolRef) -> c.Tool:
    """Locked by the coach: it stays locked, whatever its rule, until they unlock it."""
    with db.unit_of_work() as uow:
        repo, space = _coach(uow, master, caller, request)
        tools = repo.tools_of(space)
        tool = tools.toolbox(space.id, for_update=True).get(request.tool_id)
        if tool.lock(uow.clock.now()):
            uow.record(tool_event(c.ToolLocked, tool))
        tools.save(tool)
        return _answer(uow, tool, Relation.COACH)


def move_tool(db: Db, master: MasterKey, caller: Caller, request: c.MoveToolRequest) -> c.ToolList:
    with db.unit_of_work() as uow:
        repo, space = _coach(uow, master, caller, request)
        tools = repo.tools_of(space)
        box = tools.toolbox(space.id, for_update=True)
        for moved in box.move(box.get(request.tool_id), request.position, uow.clock.now()):
            tools.save(moved)
        facts = _facts(uow, space.id, uow.clock.now())
        facts = Facts(facts.now, facts.sessions_held, box.done_ids())
    return c.ToolList(
        tools=[tool_view(t, Relation.COACH, facts) for t in box.live],
        sessions_held=facts.sessions_held,
    )


def remove_tool(db: Db, master: MasterKey, caller: Caller, request: c.ToolRef) -> Empty:
    """Out of the toolbox: its target stays closed to the coachee (`spaces.tool_removed`)."""
    with db.unit_of_work() as uow:
        repo, space = _coach(uow, master, caller, request)
        tools = repo.tools_of(space)
        box = tools.toolbox(space.id, for_update=True)
        tool = box.get(request.tool_id)
        for changed in box.remove(tool, uow.clock.now()):
            tools.save(changed)
        uow.record(tool_event(c.ToolRemoved, tool))
    return Empty()


# ---------------------------------------------------------------- personal data


def tools_of(repo: Any, space: Space, relation: Relation, now: datetime) -> list[dict[str, Any]]:
    """A space's toolbox as its coachee sees it (their export)."""
    box = repo.tools_of(space).toolbox(space.id)
    facts = Facts(now, 0, box.done_ids())
    return [
        tool_view(t, relation, facts).model_dump(mode="json", exclude={"locked_reasons"})
        for t in box.live
    ]
