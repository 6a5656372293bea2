"""gRPC servicer for the spaces service: SpaceService."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from services.contracts import scheduling as sc
from services.contracts import spaces as c
from services.contracts.identity import CoachName, IdentityApi, ListMembersResponse, SpaceCoaches
from services.contracts.scheduling import SchedulingApi
from services.contracts.spaces import SpacesApi
from services.kernel.csvtable import check_size
from services.kernel.errors import NotFound, invalid

from . import convert as cv
from .calls import Backend, CallContext, handler
from .convert import parse_space, space_name
from .fanout import fan_out
from .pb import scheduling_pb2 as pb_sessions
from .pb import spaces_pb2 as pb
from .pb import spaces_pb2_grpc as pb_grpc
from .scheduling import parse_session, request_out, session_name, session_out

NEXT_SESSIONS = 3
T = TypeVar("T")
_GOAL = re.compile(
    r"^tenants/([a-z]{3}_[0-9a-f]+)/spaces/([a-z]{3}_[0-9a-f]+)/goals/([a-z]{3}_[0-9a-f]+)$"
)
_CADENCES = {
    pb.WEEKLY: "weekly",
    pb.EVERY_TWO_WEEKS: "every_two_weeks",
    pb.EVERY_FOUR_WEEKS: "every_four_weeks",
    pb.MONTHLY: "monthly",
}
_CADENCE_OUT = {v: k for k, v in _CADENCES.items()}
_STATUS_OUT = {
    "draft": pb.SPACE_DRAFT,
    "active": pb.SPACE_ACTIVE,
    "paused": pb.SPACE_PAUSED,
    "completed": pb.SPACE_COMPLETED,
    "archived": pb.SPACE_ARCHIVED,
}
_RELATION_OUT = {
    "coachee": pb.AS_COACHEE,
    "coach": pb.AS_COACH,
    "co_coach": pb.AS_CO_COACH,
    "tenant_admin": pb.AS_TENANT_ADMIN,
}
CONTENT_FIELDS = ("project", "objectives", "context")


def _set_up_in(s: Any) -> dict[str, Any]:
    if s.cadence not in _CADENCES:
        raise invalid(**{"set_up.cadence": "WEEKLY, EVERY_TWO_WEEKS, EVERY_FOUR_WEEKS or MONTHLY"})
    return {
        "coachee_member_id": s.coachee_member_id,
        "coach_member_id": s.coach_member_id,
        "co_coach_member_id": s.co_coach_member_id or None,
        "cadence": _CADENCES[s.cadence],
        "sessions_planned": s.sessions_planned,
        "starts_on": s.start_date,
        "ends_on": s.end_date or None,
    }


def space_out(s: c.Space) -> pb.Space:
    set_up = s.set_up
    co_coach = set_up.co_coach
    space = pb.Space(
        name=space_name(s.tenant_id, s.space_id),
        space_id=s.space_id,
        tenant_id=s.tenant_id,
        status=_STATUS_OUT[s.status],
        relation=_RELATION_OUT[s.relation],
        creator_person_id=s.created_by,
        earlier_content_hidden=s.earlier_content_hidden,
        earlier_content_hidden_from_coaches=s.earlier_content_hidden_from_coaches,
        create_time=cv.timestamp(s.created_at),
        update_time=cv.timestamp(s.updated_at),
        set_up=pb.SpaceSetUp(
            coachee_member_id=set_up.coachee.member_id,
            coachee_person_id=set_up.coachee.person_id,
            coach_member_id=set_up.coach.member_id,
            coach_person_id=set_up.coach.person_id,
            co_coach_member_id=co_coach.member_id if co_coach else "",
            co_coach_person_id=co_coach.person_id if co_coach else "",
            cadence=_CADENCE_OUT[set_up.cadence],
            sessions_planned=set_up.sessions_planned,
            start_date=set_up.starts_on.isoformat(),
            end_date=set_up.ends_on.isoformat() if set_up.ends_on else "",
        ),
    )
    if s.content is not None:
        space.content.CopyFrom(
            pb.SpaceContent(
                project=s.content.project,
                objectives=s.content.objectives,
                context=s.content.context,
            )
        )
    if s.pending_coach_change is not None:
        space.pending_coach_change.CopyFrom(pending_coach_out(s.pending_coach_change))
    return space


_SEAT_OUT = {"coach": pb.SEAT_COACH, "co_coach": pb.SEAT_CO_COACH}


def pending_coach_out(p: c.PendingCoachChange) -> pb.PendingCoachChange:
    return pb.PendingCoachChange(
        seat=_SEAT_OUT[p.seat],
        proposed_member_id=p.proposed.member_id,
        proposed_person_id=p.proposed.person_id,
        proposer_person_id=p.proposed_by,
        propose_time=cv.timestamp(p.proposed_at),
    )


class SpaceService(pb_grpc.SpaceServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def CreateSpace(self, request: Any, call: CallContext) -> pb.Space:
        payload = {
            "tenant_id": cv.parse_tenant(request.parent, "parent"),
            "set_up": _set_up_in(request.set_up),
            "content": {f: getattr(request.content, f) for f in CONTENT_FIELDS},
        }
        return space_out(call.call(SpacesApi.create_space, **payload))

    @handler
    def ImportSpaces(self, request: Any, call: CallContext) -> pb.ImportSpacesResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        check_size(request.csv)
        answer = call.call(
            SpacesApi.import_spaces,
            tenant_id=tenant_id,
            csv_base64=base64.b64encode(request.csv).decode(),
        )
        return pb.ImportSpacesResponse(
            created=[
                pb.ImportedSpace(line=r.line, name=space_name(tenant_id, r.space_id))
                for r in answer.created
            ],
            rejected=[pb.RejectedSpaceRow(line=r.line, reason=r.reason) for r in answer.rejected],
        )

    @handler
    def GetSpace(self, request: Any, call: CallContext) -> pb.Space:
        return space_out(call.call(SpacesApi.get_space, **parse_space(request.name)))

    @handler
    def GetSpaceCoaches(self, request: Any, call: CallContext) -> pb.SpaceCoaches:
        # Identity answers: it keeps the names, and who coaches whom from the spaces events.
        ref = parse_space(request.name)
        return coaches_out(call.call(IdentityApi.get_space_coaches, **ref))

    @handler
    def ListSpaces(self, request: Any, call: CallContext) -> pb.ListSpacesResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        payload = {
            "tenant_id": cv.parse_tenant(request.parent, "parent"),
            "page_size": request.page_size,
            "page_token": request.page_token,
        }
        answer = call.call(SpacesApi.list_spaces, **payload)
        return pb.ListSpacesResponse(
            spaces=[space_out(s) for s in answer.spaces],
            next_page_token=answer.next_page_token,
        )

    @handler
    def UpdateSpaceSetUp(self, request: Any, call: CallContext) -> pb.Space:
        payload = {**parse_space(request.name), "set_up": _set_up_in(request.set_up)}
        return space_out(call.call(SpacesApi.update_set_up, **payload))

    @handler
    def UpdateSpaceContent(self, request: Any, call: CallContext) -> pb.Space:
        paths = list(request.update_mask.paths)
        if not paths or not set(paths) <= set(CONTENT_FIELDS):
            raise invalid(update_mask="name the fields to change: project, objectives, context")
        payload: dict[str, Any] = {**parse_space(request.name), "update_mask": paths}
        for path in paths:
            payload[path] = getattr(request.content, path)
        return space_out(call.call(SpacesApi.update_content, **payload))

    @handler
    def ChangeCoach(self, request: Any, call: CallContext) -> pb.Space:
        payload = {**parse_space(request.name), "coach_member_id": request.coach_member_id}
        return space_out(call.call(SpacesApi.change_coach, **payload))

    @handler
    def ChangeCoCoach(self, request: Any, call: CallContext) -> pb.Space:
        payload = {
            **parse_space(request.name),
            "co_coach_member_id": request.co_coach_member_id or None,
        }
        return space_out(call.call(SpacesApi.change_co_coach, **payload))

    @handler
    def GetPendingCoachChange(self, request: Any, call: CallContext) -> pb.PendingCoachChange:
        ref = parse_space(request.name)
        return pending_coach_out(call.call(SpacesApi.get_pending_coach_change, **ref))

    @handler
    def AcceptCoachChange(self, request: Any, call: CallContext) -> pb.Space:
        return space_out(call.call(SpacesApi.accept_coach_change, **parse_space(request.name)))

    @handler
    def DeclineCoachChange(self, request: Any, call: CallContext) -> pb.Space:
        return space_out(call.call(SpacesApi.decline_coach_change, **parse_space(request.name)))

    @handler
    def ShareEarlierContent(self, request: Any, call: CallContext) -> pb.Space:
        return space_out(call.call(SpacesApi.share_earlier_content, **parse_space(request.name)))

    @handler
    def RotateTenantKey(self, request: Any, call: CallContext) -> pb.TenantKeyRotation:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        answer = call.call(SpacesApi.rotate_tenant_key, tenant_id=tenant_id)
        return pb.TenantKeyRotation(
            key_id=answer.key_id, rewrapped=answer.rewrapped, retired=answer.retired
        )

    def _move(self, request: Any, call: CallContext, move: str) -> pb.Space:
        return space_out(call.call(SpacesApi.move_space, **parse_space(request.name), move=move))

    @handler
    def ActivateSpace(self, request: Any, call: CallContext) -> pb.Space:
        return self._move(request, call, "activate")

    @handler
    def PauseSpace(self, request: Any, call: CallContext) -> pb.Space:
        return self._move(request, call, "pause")

    @handler
    def ResumeSpace(self, request: Any, call: CallContext) -> pb.Space:
        return self._move(request, call, "resume")

    @handler
    def CompleteSpace(self, request: Any, call: CallContext) -> pb.Space:
        return self._move(request, call, "complete")

    @handler
    def ArchiveSpace(self, request: Any, call: CallContext) -> pb.Space:
        return self._move(request, call, "archive")


def goal_name(tenant_id: str, space_id: str, goal_id: str) -> str:
    return f"{space_name(tenant_id, space_id)}/goals/{goal_id}"


def parse_goal(value: str, field: str = "name") -> dict[str, str]:
    match = _GOAL.match(value or "")
    if not match:
        raise invalid(
            **{field: "must be a goal name: tenants/{tenant_id}/spaces/{space_id}/goals/{goal_id}"}
        )
    return {"tenant_id": match.group(1), "space_id": match.group(2), "goal_id": match.group(3)}


_GOAL_STATUS = {"open": pb.GOAL_OPEN, "achieved": pb.GOAL_ACHIEVED, "archived": pb.GOAL_ARCHIVED}
GOAL_FIELDS = {
    "title": "title",
    "description": "description",
    "due_date": "due_on",
    "progress": "progress",
    "milestones": "milestones",
}


def _goal_in(g: Any) -> dict[str, Any]:
    return {
        "title": g.title,
        "description": g.description,
        "due_on": g.due_date or None,
        "progress": g.progress,
        "milestones": [
            {"id": m.milestone_id, "title": m.title, "due_on": m.due_date or None, "done": m.done}
            for m in g.milestones
        ],
    }


def _date_out(value: date | None) -> str:
    return value.isoformat() if value else ""


def goal_out(g: c.Goal) -> pb.Goal:
    return pb.Goal(
        name=goal_name(g.tenant_id, g.space_id, g.goal_id),
        goal_id=g.goal_id,
        title=g.title,
        description=g.description,
        due_date=_date_out(g.due_on),
        progress=g.progress,
        status=_GOAL_STATUS[g.status],
        milestones=[
            pb.Milestone(
                milestone_id=m.id,
                title=m.title,
                due_date=_date_out(m.due_on),
                done=m.done,
            )
            for m in g.milestones
        ],
        creator_person_id=g.created_by,
        create_time=cv.timestamp(g.created_at),
        update_time=cv.timestamp(g.updated_at),
    )


def _page(request: Any) -> dict[str, Any]:
    if request.page_size < 0:
        raise invalid(page_size="must not be negative")
    return {"page_size": request.page_size, "page_token": request.page_token}


class GoalService(pb_grpc.GoalServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def CreateGoal(self, request: Any, call: CallContext) -> pb.Goal:
        payload = {**parse_space(request.parent, "parent"), "goal": _goal_in(request.goal)}
        return goal_out(call.call(SpacesApi.create_goal, **payload))

    @handler
    def GetGoal(self, request: Any, call: CallContext) -> pb.Goal:
        return goal_out(call.call(SpacesApi.get_goal, **parse_goal(request.name)))

    @handler
    def ListGoals(self, request: Any, call: CallContext) -> pb.ListGoalsResponse:
        payload = {**parse_space(request.parent, "parent"), **_page(request)}
        answer = call.call(SpacesApi.list_goals, **payload)
        return pb.ListGoalsResponse(
            goals=[goal_out(g) for g in answer.goals], next_page_token=answer.next_page_token
        )

    @handler
    def UpdateGoal(self, request: Any, call: CallContext) -> pb.Goal:
        paths = list(request.update_mask.paths)
        if not paths or not set(paths) <= set(GOAL_FIELDS):
            raise invalid(
                update_mask="name the fields to change: title, description, due_date, progress, "
                "milestones"
            )
        payload = {
            **parse_goal(request.goal.name, "goal.name"),
            "update_mask": [GOAL_FIELDS[p] for p in paths],
            "goal": _goal_in(request.goal),
        }
        return goal_out(call.call(SpacesApi.update_goal, **payload))

    @handler
    def ArchiveGoal(self, request: Any, call: CallContext) -> pb.Goal:
        return goal_out(call.call(SpacesApi.archive_goal, **parse_goal(request.name)))

    @handler
    def ListGoalChanges(self, request: Any, call: CallContext) -> pb.ListGoalChangesResponse:
        payload = {**parse_goal(request.parent, "parent"), **_page(request)}
        answer = call.call(SpacesApi.goal_history, **payload)
        response = pb.ListGoalChangesResponse(next_page_token=answer.next_page_token)
        for change in answer.changes:
            what = {k: {"before": v[0], "after": v[1]} for k, v in change.changes.items()}
            response.changes.add(
                changer_person_id=change.changed_by,
                change_time=cv.timestamp(change.changed_at),
                changes_json=json.dumps(what, ensure_ascii=False),
            )
        return response


_NOTE = re.compile(
    r"^tenants/([a-z]{3}_[0-9a-f]+)/spaces/([a-z]{3}_[0-9a-f]+)/notes/([a-z]{3}_[0-9a-f]+)$"
)
_KINDS = {pb.SHARED: "shared", pb.COACH_PRIVATE: "coach_private", pb.JOURNAL: "journal"}
_KIND_OUT = {v: k for k, v in _KINDS.items()}


def note_name(tenant_id: str, space_id: str, note_id: str) -> str:
    return f"{space_name(tenant_id, space_id)}/notes/{note_id}"


def parse_note(value: str, field: str = "name") -> dict[str, str]:
    match = _NOTE.match(value or "")
    if not match:
        raise invalid(
            **{field: "must be a note name: tenants/{tenant_id}/spaces/{space_id}/notes/{note_id}"}
        )
    return {"tenant_id": match.group(1), "space_id": match.group(2), "note_id": match.group(3)}


def _kind_in(value: int, field: str) -> str:
    if value not in _KINDS:
        raise invalid(**{field: "SHARED, COACH_PRIVATE or JOURNAL"})
    return _KINDS[value]


def _links_in(links: Any) -> list[dict[str, str]]:
    return [{"url": link.url, "title": link.title} for link in links]


def note_out(n: c.Note) -> pb.Note:
    return pb.Note(
        name=note_name(n.tenant_id, n.space_id, n.note_id),
        note_id=n.note_id,
        kind=_KIND_OUT[n.kind],
        author_person_id=n.author_person_id,
        author_erased=n.author_erased,
        parent_note=note_name(n.tenant_id, n.space_id, n.parent_note_id)
        if n.parent_note_id
        else "",
        body=n.body,
        body_html=n.body_html,
        links=[pb.NoteLink(url=link.url, title=link.title) for link in n.links],
        create_time=cv.timestamp(n.created_at),
        update_time=cv.timestamp(n.updated_at),
        session=session_name(n.tenant_id, n.session_id) if n.session_id else "",
    )


def _session_in(value: str, field: str) -> str | None:
    """A note's session, by name; spaces checks it is one of the note's space (NOT_FOUND
    otherwise, another tenant's included, exactly as a session that does not exist)."""
    return parse_session(value, field)["session_id"] if value else None


def _reads_out(answer: c.NoteReadList) -> pb.ListNoteReadsResponse:
    response = pb.ListNoteReadsResponse(next_page_token=answer.next_page_token)
    for r in answer.reads:
        response.reads.add(
            note=note_name(r.tenant_id, r.space_id, r.note_id),
            reader_person_id=r.reader_person_id,
            read_time=cv.timestamp(r.read_at),
        )
    return response


class NoteService(pb_grpc.NoteServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def CreateNote(self, request: Any, call: CallContext) -> pb.Note:
        space = parse_space(request.parent, "parent")
        payload: dict[str, Any] = {
            **space,
            "kind": _kind_in(request.note.kind, "note.kind"),
            "body": request.note.body,
            "links": _links_in(request.note.links),
        }
        if request.note.parent_note:
            parent = parse_note(request.note.parent_note, "note.parent_note")
            if parent["space_id"] != space["space_id"]:
                raise invalid(**{"note.parent_note": "must be a note of the same space"})
            payload["parent_note_id"] = parent["note_id"]
        payload["session_id"] = _session_in(request.note.session, "note.session")
        return note_out(call.call(SpacesApi.create_note, **payload))

    @handler
    def GetNote(self, request: Any, call: CallContext) -> pb.Note:
        return note_out(call.call(SpacesApi.get_note, **parse_note(request.name)))

    @handler
    def ListNotes(self, request: Any, call: CallContext) -> pb.ListNotesResponse:
        payload = {
            **parse_space(request.parent, "parent"),
            **_page(request),
            "kinds": [_kind_in(k, "kinds") for k in request.kinds],
        }
        answer = call.call(SpacesApi.list_notes, **payload)
        return pb.ListNotesResponse(
            notes=[note_out(n) for n in answer.notes], next_page_token=answer.next_page_token
        )

    @handler
    def UpdateNote(self, request: Any, call: CallContext) -> pb.Note:
        paths = list(request.update_mask.paths)
        if not paths or not set(paths) <= {"body", "links", "session"}:
            raise invalid(update_mask="name the fields to change: body, links, session")
        note = parse_note(request.note.name, "note.name")
        payload = {
            **note,
            "update_mask": [p.replace("session", "session_id") for p in paths],
            "body": request.note.body,
            "links": _links_in(request.note.links),
            "session_id": _session_in(request.note.session, "note.session"),
        }
        return note_out(call.call(SpacesApi.update_note, **payload))

    @handler
    def DeleteNote(self, request: Any, call: CallContext) -> pb.DeleteNoteResponse:
        call.call(SpacesApi.delete_note, **parse_note(request.name))
        return pb.DeleteNoteResponse()

    @handler
    def ListNoteRevisions(self, request: Any, call: CallContext) -> pb.ListNoteRevisionsResponse:
        payload = {**parse_note(request.parent, "parent"), **_page(request)}
        answer = call.call(SpacesApi.list_note_revisions, **payload)
        response = pb.ListNoteRevisionsResponse(next_page_token=answer.next_page_token)
        for r in answer.revisions:
            response.revisions.add(replace_time=cv.timestamp(r.replaced_at), body=r.body)
        return response

    @handler
    def ListNoteReads(self, request: Any, call: CallContext) -> pb.ListNoteReadsResponse:
        payload = {**parse_space(request.parent, "parent"), **_page(request)}
        return _reads_out(call.call(SpacesApi.list_note_reads, **payload))

    @handler
    def ListRefusedNoteReads(self, request: Any, call: CallContext) -> pb.ListNoteReadsResponse:
        return _reads_out(call.call(SpacesApi.list_refused_note_reads, **_page(request)))


# ---------------------------------------------------------------- toolbox (ADR 0018)

_TOOL = re.compile(
    r"^tenants/([a-z]{3}_[0-9a-f]+)/spaces/([a-z]{3}_[0-9a-f]+)/tools/([a-z]{3}_[0-9a-f]+)$"
)
_TOOL_KINDS = {
    pb.TOOL_ASSESSMENT: "assessment",
    pb.TOOL_RESOURCE: "resource",
    pb.TOOL_MODULE: "module",
    pb.TOOL_VIDEO_ROOM: "video_room",
    pb.TOOL_NOTE_TEMPLATE: "note_template",
}
_TOOL_KIND_OUT = {v: k for k, v in _TOOL_KINDS.items()}
_TOOL_STATE_OUT = {
    "locked": pb.TOOL_LOCKED,
    "unlocked": pb.TOOL_UNLOCKED,
    "removed": pb.TOOL_REMOVED,
}
_REASON_OUT = {
    "on_date": pb.LOCK_REASON_ON_DATE,
    "after_sessions_held": pb.LOCK_REASON_AFTER_SESSIONS_HELD,
    "after_tool_done": pb.LOCK_REASON_AFTER_TOOL_DONE,
    "by_hand": pb.LOCK_REASON_BY_HAND,
    "locked_by_coach": pb.LOCK_REASON_LOCKED_BY_COACH,
}
TOOL_FIELDS = ("label", "template", "rule")


def tool_name(tenant_id: str, space_id: str, tool_id: str) -> str:
    return f"{space_name(tenant_id, space_id)}/tools/{tool_id}"


def parse_tool(value: str, field: str = "name") -> dict[str, str]:
    match = _TOOL.match(value or "")
    if not match:
        raise invalid(
            **{field: "must be a tool name: tenants/{tenant_id}/spaces/{space_id}/tools/{tool_id}"}
        )
    return {"tenant_id": match.group(1), "space_id": match.group(2), "tool_id": match.group(3)}


def _rule_in(rule: Any, space: dict[str, str]) -> dict[str, Any]:
    after = None
    if rule.after_tool:
        other = parse_tool(rule.after_tool, "tool.rule.after_tool")
        if other["space_id"] != space["space_id"] or other["tenant_id"] != space["tenant_id"]:
            raise invalid(**{"tool.rule.after_tool": "must be a tool of the same space"})
        after = other["tool_id"]
    return {
        "on_date": rule.on_date or None,
        "after_sessions_held": rule.after_sessions_held or None,
        "after_tool_id": after,
        "by_hand": rule.by_hand,
    }


def tool_out(t: c.Tool) -> pb.Tool:
    out = pb.Tool(
        name=tool_name(t.tenant_id, t.space_id, t.tool_id),
        tool_id=t.tool_id,
        kind=_TOOL_KIND_OUT[t.kind.value],
        target_id=t.target_id or "",
        label=t.label,
        template=t.template,
        position=t.position,
        state=_TOOL_STATE_OUT[t.state.value],
        done=t.done,
        locked_reasons=[
            pb.LockReason(
                kind=_REASON_OUT[r.kind],
                on_date=_date_out(r.on_date),
                sessions_held=r.sessions_held or 0,
                tool=tool_name(t.tenant_id, t.space_id, r.tool_id) if r.tool_id else "",
            )
            for r in t.locked_reasons
        ],
        create_time=cv.timestamp(t.created_at),
        update_time=cv.timestamp(t.updated_at),
    )
    if t.rule is not None:
        out.rule.CopyFrom(
            pb.ToolRule(
                on_date=_date_out(t.rule.on_date),
                after_sessions_held=t.rule.after_sessions_held or 0,
                after_tool=tool_name(t.tenant_id, t.space_id, t.rule.after_tool_id)
                if t.rule.after_tool_id
                else "",
                by_hand=t.rule.by_hand,
            )
        )
    if t.unlocked_at is not None:
        out.unlock_time.CopyFrom(cv.timestamp(t.unlocked_at))
    return out


def tools_out(answer: c.ToolList) -> pb.ListToolsResponse:
    return pb.ListToolsResponse(
        tools=[tool_out(t) for t in answer.tools], sessions_held=answer.sessions_held
    )


class ToolboxService(pb_grpc.ToolboxServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def AddTool(self, request: Any, call: CallContext) -> pb.Tool:
        space = parse_space(request.parent, "parent")
        tool = request.tool
        if tool.kind not in _TOOL_KINDS:
            raise invalid(
                **{"tool.kind": "ASSESSMENT, RESOURCE, MODULE, VIDEO_ROOM or NOTE_TEMPLATE"}
            )
        payload = {
            **space,
            "kind": _TOOL_KINDS[tool.kind],
            "target_id": tool.target_id or None,
            "label": tool.label,
            "template": tool.template,
            "rule": _rule_in(tool.rule, space),
        }
        return tool_out(call.call(SpacesApi.add_tool, **payload))

    @handler
    def UpdateTool(self, request: Any, call: CallContext) -> pb.Tool:
        paths = list(request.update_mask.paths)
        if not paths or not set(paths) <= set(TOOL_FIELDS):
            raise invalid(update_mask="name the fields to change: label, template, rule")
        ref = parse_tool(request.tool.name, "tool.name")
        payload = {
            **ref,
            "update_mask": paths,
            "label": request.tool.label,
            "template": request.tool.template,
            "rule": _rule_in(request.tool.rule, ref),
        }
        return tool_out(call.call(SpacesApi.update_tool, **payload))

    @handler
    def ListTools(self, request: Any, call: CallContext) -> pb.ListToolsResponse:
        return tools_out(call.call(SpacesApi.list_tools, **parse_space(request.parent, "parent")))

    @handler
    def UnlockTool(self, request: Any, call: CallContext) -> pb.Tool:
        return tool_out(call.call(SpacesApi.unlock_tool, **parse_tool(request.name)))

    @handler
    def LockTool(self, request: Any, call: CallContext) -> pb.Tool:
        return tool_out(call.call(SpacesApi.lock_tool, **parse_tool(request.name)))

    @handler
    def MoveTool(self, request: Any, call: CallContext) -> pb.ListToolsResponse:
        payload = {**parse_tool(request.name), "position": request.position}
        return tools_out(call.call(SpacesApi.move_tool, **payload))

    @handler
    def RemoveTool(self, request: Any, call: CallContext) -> pb.RemoveToolResponse:
        call.call(SpacesApi.remove_tool, **parse_tool(request.name))
        return pb.RemoveToolResponse()


def _coach_name_out(name: CoachName) -> pb.CoachName:
    return pb.CoachName(person_id=name.person_id, display_name=name.display_name)


def coaches_out(found: SpaceCoaches) -> pb.SpaceCoaches:
    coaches = pb.SpaceCoaches(
        space=space_name(found.tenant_id, found.space_id),
        coach=_coach_name_out(found.coach),
    )
    if found.co_coach:
        coaches.co_coach.CopyFrom(_coach_name_out(found.co_coach))
    return coaches


def _next_sessions(answer: sc.SchedulingDashboard) -> dict[str, list[pb_sessions.Session]]:
    return {s.space_id: [session_out(x) for x in s.next_sessions] for s in answer.spaces}


def _by_space(answer: sc.SchedulingDashboard) -> dict[str, sc.SpaceSessions]:
    """Scheduling's dashboard, by space: engagement use and sessions to mark."""
    return {s.space_id: s for s in answer.spaces}


def _engagement_out(s: sc.SpaceSessions | None) -> pb.EngagementUse | None:
    use = s.engagement if s else None
    if use is None:
        return None
    return pb.EngagementUse(
        sessions_planned=use.sessions_planned,
        sessions_used=use.sessions_used,
        sessions_held=use.sessions_held,
        sessions_booked=use.sessions_booked,
        sessions_left=use.sessions_left,
    )


def _unless_not_found(fetch: Callable[[], T]) -> Callable[[], T | None]:
    """A fan-out call whose NOT_FOUND is an empty answer (a copy another service keeps from
    events, not there yet), not the whole answer's failure."""

    def run() -> T | None:
        try:
            return fetch()
        except NotFound:
            return None

    return run


class DashboardService(pb_grpc.DashboardServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetCoacheeDashboard(self, request: Any, call: CallContext) -> pb.CoacheeDashboard:
        """One call for the client: the coachee's spaces, then each one's goals and latest
        shared notes in parallel."""
        tenant_id = cv.parse_tenant(request.parent, "parent")
        if not 0 <= request.notes_per_space <= 50:
            raise invalid(notes_per_space="0 to 50 (0: 5)")
        per_space = request.notes_per_space or 5
        listed = call.call(SpacesApi.list_spaces, tenant_id=tenant_id, page_size=100)
        mine = [s for s in listed.spaces if s.relation == "coachee"]
        calls = {
            "sessions": call.later(
                SchedulingApi.get_dashboard, tenant_id=tenant_id, per_space=NEXT_SESSIONS
            )
        }
        for s in mine:
            ref = {"tenant_id": tenant_id, "space_id": s.space_id}
            calls[f"goals:{s.space_id}"] = call.later(SpacesApi.list_goals, **ref)
            calls[f"notes:{s.space_id}"] = call.later(
                SpacesApi.list_notes, **ref, kinds=["shared"], page_size=per_space
            )
            # Names from identity, which learns who coaches whom from the spaces events.
            calls[f"coaches:{s.space_id}"] = _unless_not_found(
                call.later(IdentityApi.get_space_coaches, **ref)
            )
        found = fan_out(calls)
        sessions: sc.SchedulingDashboard = found["sessions"]
        upcoming = _next_sessions(sessions)
        scheduled = _by_space(sessions)
        dashboard = pb.CoacheeDashboard()
        for s in mine:
            goals: c.GoalList = found[f"goals:{s.space_id}"]
            notes: c.NoteList = found[f"notes:{s.space_id}"]
            coaches: SpaceCoaches | None = found[f"coaches:{s.space_id}"]
            dashboard.spaces.add(
                space=space_out(s),
                goals=[goal_out(g) for g in goals.goals],
                latest_notes=[note_out(n) for n in notes.notes],
                next_sessions=upcoming.get(s.space_id, []),
                coaches=coaches_out(coaches) if coaches else None,
                engagement=_engagement_out(scheduled.get(s.space_id)),
            )
        return dashboard

    @handler
    def GetCoachDashboard(self, request: Any, call: CallContext) -> pb.CoachDashboard:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        found = fan_out(
            {
                "roster": call.later(SpacesApi.get_coach_roster, tenant_id=tenant_id),
                # Names from identity, which keeps who coaches whom (blank until it has learnt).
                "coachees": call.later(IdentityApi.list_my_coachees, tenant_id=tenant_id),
                "sessions": call.later(
                    SchedulingApi.get_dashboard, tenant_id=tenant_id, per_space=NEXT_SESSIONS
                ),
            }
        )
        roster: c.CoachRoster = found["roster"]
        coachees: ListMembersResponse = found["coachees"]
        sessions: sc.SchedulingDashboard = found["sessions"]
        upcoming = _next_sessions(sessions)
        names = {m.member_id: m.display_name for m in coachees.members}
        dashboard = pb.CoachDashboard(
            to_mark=[session_out(x) for x in sessions.to_mark],
            reschedule_requests=[request_out(r) for r in sessions.requests],
        )
        scheduled = _by_space(sessions)
        for entry in roster.entries:
            space_id = entry.space.space_id
            by_space = scheduled.get(space_id)
            dashboard.coachees.add(
                next_sessions=upcoming.get(space_id, []),
                space=space_out(entry.space),
                last_activity_time=cv.timestamp(entry.last_activity_at),
                coachee_display_name=names.get(entry.space.set_up.coachee.member_id, ""),
                engagement=_engagement_out(by_space),
                sessions_to_mark=by_space.to_mark if by_space else 0,
                new_shared_notes=entry.new_shared_notes,
                tools_open=entry.tools_open,
                tools_total=entry.tools_total,
            )
        return dashboard


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_SpaceServiceServicer_to_server(SpaceService(backend), server)
    pb_grpc.add_GoalServiceServicer_to_server(GoalService(backend), server)
    pb_grpc.add_NoteServiceServicer_to_server(NoteService(backend), server)
    pb_grpc.add_DashboardServiceServicer_to_server(DashboardService(backend), server)
    pb_grpc.add_ToolboxServiceServicer_to_server(ToolboxService(backend), server)
    return [
        pb.DESCRIPTOR.services_by_name[name].full_name
        for name in (
            "SpaceService",
            "GoalService",
            "NoteService",
            "DashboardService",
            "ToolboxService",
        )
    ]
