"""The space's toolbox in words (issue 24, ADR 0018), for the coach's page (toolbox.py) and the
coachee's space page (coachee.py): a tool's kind and state, its rule as the coach set it, and
why a locked tool is still locked as the coachee reads it ("after your 2nd session", "from 12
March" in their language) from the service's `locked_reasons`, never from the rule (the
coaches' only).

A date of a rule or reason is a day of the coachee's own calendar (00:00 in their time zone,
fixed by the service when the rule is set): it is shown as that day, with no conversion.

The coachee's overview (`/my-space`) shows a glance of each space's toolbox (`glance`): the
tools newly opened and how many are still to come, with the next one's reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import grpc
from babel.dates import format_date
from babel.lists import format_list

from gateway.api.pb import spaces_pb2 as spb

from .clients import authed
from .i18n import _, language
from .pages import clients

# A tool opened this recently, and not done yet, is "new" on the coachee's overview. The service
# does not know whether the coachee opened it: its unlock time is all there is.
NEW_FOR = timedelta(days=14)


def tools_of(space_name: str) -> spb.ListToolsResponse:
    """The space's toolbox as the caller may see it, removed tools left out; empty when the
    caller may not see it (the service's NOT_FOUND / PERMISSION_DENIED)."""
    try:
        reply: spb.ListToolsResponse = authed(
            clients(), clients().toolbox.ListTools, spb.ListToolsRequest(parent=space_name)
        )
    except grpc.RpcError as exc:
        if exc.code() in (  # type: ignore[attr-defined]
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.PERMISSION_DENIED,
        ):
            return spb.ListToolsResponse()
        raise
    live = [t for t in reply.tools if t.state != spb.TOOL_REMOVED]
    return spb.ListToolsResponse(tools=live, sessions_held=reply.sessions_held)


def kind_label(kind: int) -> str:
    return {
        spb.TOOL_ASSESSMENT: _("Questionnaire"),
        spb.TOOL_RESOURCE: _("Resource"),
        spb.TOOL_MODULE: _("E-learning module"),
        spb.TOOL_VIDEO_ROOM: _("Video room"),
        spb.TOOL_NOTE_TEMPLATE: _("Note template"),
    }.get(kind, "")


def locked_by_coach(tool: spb.Tool) -> bool:
    """Locked by a coach (LockTool): its rule no longer applies until a coach opens it."""
    return tool.state == spb.TOOL_LOCKED and any(
        r.kind == spb.LOCK_REASON_LOCKED_BY_COACH for r in tool.locked_reasons
    )


def state_label(tool: spb.Tool) -> str:
    if tool.state == spb.TOOL_UNLOCKED:
        return _("Done") if tool.done else _("Open")
    return _("Locked by a coach") if locked_by_coach(tool) else _("Locked")


def day(value: str) -> str:
    """A YYYY-MM-DD day in the page's language ("12 March", with the year when not this one)."""
    try:
        when = date.fromisoformat(value)
    except ValueError:
        return value
    shape = "d MMMM" if when.year == date.today().year else "d MMMM y"
    if language() == "fr" and when.day == 1:
        shape = shape.replace("d ", "d'er' ", 1)  # "1er mars"
    return format_date(when, shape, locale=language())


def nth(n: int) -> str:
    """An ordinal for a session ("séance", feminine, in French): 1st, 2nd / 1re, 2e."""
    if language() == "fr":
        return "1re" if n == 1 else f"{n}e"
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def together(parts: list[str]) -> str:
    """Conditions that all must hold: "a, b and c" / "a, b et c"."""
    return format_list(parts, locale=language()) if parts else ""


def labels_of(tools: list[spb.Tool]) -> dict[str, str]:
    return {t.name: t.label for t in tools}


def rule_words(tool: spb.Tool, labels: dict[str, str]) -> str:
    """The rule as its coach set it ("after 2 sessions held and from 12 March"); a tool a coach
    locked waits for a coach, whatever its rule."""
    if locked_by_coach(tool):
        return _("when a coach opens it (its rule no longer applies)")
    rule = tool.rule
    parts = []
    if rule.on_date:
        parts.append(_("from %(date)s", date=day(rule.on_date)))
    if rule.after_sessions_held == 1:
        parts.append(_("after 1 session held"))
    elif rule.after_sessions_held:
        parts.append(_("after %(count)s sessions held", count=rule.after_sessions_held))
    if rule.after_tool:
        other = labels.get(rule.after_tool, "")
        parts.append(
            _("once “%(label)s” is done", label=other) if other else _("once another tool is done")
        )
    if rule.by_hand:
        parts.append(_("when a coach opens it"))
    return together(parts) or _("at once")


def reason_words(tool: spb.Tool, labels: dict[str, str]) -> str:
    """Why a locked tool is still locked, as its coachee reads it."""
    parts = []
    for reason in tool.locked_reasons:
        if reason.kind == spb.LOCK_REASON_ON_DATE:
            parts.append(_("from %(date)s", date=day(reason.on_date)))
        elif reason.kind == spb.LOCK_REASON_AFTER_SESSIONS_HELD:
            parts.append(_("after your %(nth)s session", nth=nth(reason.sessions_held)))
        elif reason.kind == spb.LOCK_REASON_AFTER_TOOL_DONE:
            other = labels.get(reason.tool, "")
            parts.append(
                _("once “%(label)s” is done", label=other)
                if other
                else _("once another tool is done")
            )
        elif reason.kind in (spb.LOCK_REASON_BY_HAND, spb.LOCK_REASON_LOCKED_BY_COACH):
            words = _("when your coach opens it")
            if words not in parts:
                parts.append(words)
    return together(parts) or _("when your coach opens it")


@dataclass
class Glance:
    """A space's toolbox at a glance, as its coachee reads it on their overview."""

    new: list[spb.Tool] = field(default_factory=list)  # opened within NEW_FOR, not done
    to_come: int = 0  # the tools still locked
    next_reason: str = ""  # why the first of them (in the coach's order) is locked

    @property
    def to_come_words(self) -> str:
        return tools_to_come(self.to_come)


def glance(toolbox: spb.ListToolsResponse, now: datetime | None = None) -> Glance:
    """The tools opened in the last 14 days and not done yet, in the coach's order; how many are
    still locked and the reason of the first one (the one the coach placed first)."""
    since = (now or datetime.now(UTC)) - NEW_FOR
    new = [
        t
        for t in toolbox.tools
        if t.state == spb.TOOL_UNLOCKED
        and not t.done
        and t.HasField("unlock_time")
        and t.unlock_time.ToDatetime(tzinfo=UTC) >= since
    ]
    locked = [t for t in toolbox.tools if t.state == spb.TOOL_LOCKED]
    reason = reason_words(locked[0], labels_of(list(toolbox.tools))) if locked else ""
    return Glance(new=new, to_come=len(locked), next_reason=reason)


def tools_to_come(count: int) -> str:
    """ "1 tool still to come" / "3 tools still to come"."""
    if count == 1:
        return _("1 tool still to come")
    return _("%(count)s tools still to come", count=count)
