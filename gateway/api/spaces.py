"""gRPC servicer for the spaces service: SpaceService."""

from __future__ import annotations

import re
from typing import Any

from services.kernel.errors import invalid

from . import convert as cv
from .calls import Backend, CallContext, handler
from .pb import spaces_pb2 as pb
from .pb import spaces_pb2_grpc as pb_grpc

SPACES = "spaces"
_SPACE = re.compile(r"^tenants/([a-z]{3}_[0-9a-f]+)/spaces/([a-z]{3}_[0-9a-f]+)$")
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


def space_name(tenant_id: str, space_id: str) -> str:
    return f"tenants/{tenant_id}/spaces/{space_id}"


def parse_space(value: str, field: str = "name") -> dict[str, str]:
    match = _SPACE.match(value or "")
    if not match:
        raise invalid(**{field: "must be a space name: tenants/{tenant_id}/spaces/{space_id}"})
    return {"tenant_id": match.group(1), "space_id": match.group(2)}


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


def space_out(s: dict[str, Any]) -> pb.Space:
    set_up = s["set_up"]
    co_coach = set_up.get("co_coach") or {}
    space = pb.Space(
        name=space_name(s["tenant_id"], s["space_id"]),
        space_id=s["space_id"],
        tenant_id=s["tenant_id"],
        status=_STATUS_OUT[s["status"]],
        relation=_RELATION_OUT[s["relation"]],
        creator_person_id=s["created_by"],
        create_time=cv.timestamp(s["created_at"]),
        update_time=cv.timestamp(s["updated_at"]),
        set_up=pb.SpaceSetUp(
            coachee_member_id=set_up["coachee"]["member_id"],
            coachee_person_id=set_up["coachee"]["person_id"],
            coach_member_id=set_up["coach"]["member_id"],
            coach_person_id=set_up["coach"]["person_id"],
            co_coach_member_id=co_coach.get("member_id", ""),
            co_coach_person_id=co_coach.get("person_id", ""),
            cadence=_CADENCE_OUT[set_up["cadence"]],
            sessions_planned=set_up["sessions_planned"],
            start_date=set_up["starts_on"],
            end_date=set_up.get("ends_on") or "",
        ),
    )
    if s.get("content") is not None:
        space.content.CopyFrom(pb.SpaceContent(**s["content"]))
    return space


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
        return space_out(call.call(SPACES, "create_space", payload))

    @handler
    def GetSpace(self, request: Any, call: CallContext) -> pb.Space:
        return space_out(call.call(SPACES, "get_space", parse_space(request.name)))

    @handler
    def ListSpaces(self, request: Any, call: CallContext) -> pb.ListSpacesResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        payload = {
            "tenant_id": cv.parse_tenant(request.parent, "parent"),
            "page_size": request.page_size,
            "page_token": request.page_token,
        }
        answer = call.call(SPACES, "list_spaces", payload)
        return pb.ListSpacesResponse(
            spaces=[space_out(s) for s in answer["spaces"]],
            next_page_token=answer["next_page_token"],
        )

    @handler
    def UpdateSpaceSetUp(self, request: Any, call: CallContext) -> pb.Space:
        payload = {**parse_space(request.name), "set_up": _set_up_in(request.set_up)}
        return space_out(call.call(SPACES, "update_set_up", payload))

    @handler
    def UpdateSpaceContent(self, request: Any, call: CallContext) -> pb.Space:
        paths = list(request.update_mask.paths)
        if not paths or not set(paths) <= set(CONTENT_FIELDS):
            raise invalid(update_mask="name the fields to change: project, objectives, context")
        payload: dict[str, Any] = {**parse_space(request.name), "update_mask": paths}
        for path in paths:
            payload[path] = getattr(request.content, path)
        return space_out(call.call(SPACES, "update_content", payload))

    def _move(self, request: Any, call: CallContext, move: str) -> pb.Space:
        payload = {**parse_space(request.name), "move": move}
        return space_out(call.call(SPACES, "move_space", payload))

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


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_SpaceServiceServicer_to_server(SpaceService(backend), server)
    return [pb.DESCRIPTOR.services_by_name["SpaceService"].full_name]
