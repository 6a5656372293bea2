"""A space's status and lifecycle as the web pages show them, for the coach's space page
(coach.py) and HR's (hr_spaces.py): the status in words, the moves the space's status and the
reader's relation allow, and making one through SpaceService (ActivateSpace ... ArchiveSpace).

The table says again what the spaces service decides (services/spaces/domain/model.py MOVES;
`tests/unit/test_web_space_moves.py` keeps the two the same), only so that a page offers no
button that would be refused: the service still decides, and a move refused meanwhile (the
coachee paused the space in another tab) comes back with the service's reason in the page's
language (`failed`).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from gateway.api.pb import spaces_pb2 as spb

from .clients import authed
from .i18n import _
from .pages import clients, failed

COACHES = frozenset({spb.AS_COACH, spb.AS_CO_COACH})


@dataclass(frozen=True)
class Move:
    name: str  # the domain's word: activate, pause, resume, complete, archive
    method: str  # SpaceService's method
    starts: tuple[int, ...]  # the statuses it may start from
    ends: int
    by: frozenset[int]  # the relations (SpaceRelation) that may make it
    confirm: bool  # asked again before it is made: it cannot be undone


MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move("activate", "ActivateSpace", (spb.SPACE_DRAFT,), spb.SPACE_ACTIVE, COACHES, False),
        Move(
            "pause",
            "PauseSpace",
            (spb.SPACE_ACTIVE,),
            spb.SPACE_PAUSED,
            COACHES | {spb.AS_COACHEE},
            False,
        ),
        Move(
            "resume",
            "ResumeSpace",
            (spb.SPACE_PAUSED,),
            spb.SPACE_ACTIVE,
            COACHES | {spb.AS_COACHEE},
            False,
        ),
        Move("complete", "CompleteSpace", (spb.SPACE_ACTIVE,), spb.SPACE_COMPLETED, COACHES, True),
        Move(
            "archive",
            "ArchiveSpace",
            (spb.SPACE_COMPLETED, spb.SPACE_DRAFT),
            spb.SPACE_ARCHIVED,
            COACHES | {spb.AS_TENANT_ADMIN},
            True,
        ),
    )
}


def status_label(status: int) -> str:
    return {
        spb.SPACE_DRAFT: _("Draft"),
        spb.SPACE_ACTIVE: _("Active"),
        spb.SPACE_PAUSED: _("Paused"),
        spb.SPACE_COMPLETED: _("Completed"),
        spb.SPACE_ARCHIVED: _("Archived"),
    }.get(status, "?")


def move_label(move: str) -> str:
    """The move's button."""
    return {
        "activate": _("Activate the space"),
        "pause": _("Pause the coaching"),
        "resume": _("Resume the coaching"),
        "complete": _("Complete the coaching"),
        "archive": _("Archive the space"),
    }[move]


def move_done(move: str) -> str:
    """What the page says once the move is made."""
    return {
        "activate": _("The space is active: the coachee sees it and may book sessions."),
        "pause": _(
            "The coaching is paused: its booked sessions are cancelled and none may be booked "
            "until it resumes."
        ),
        "resume": _("The coaching is running again."),
        "complete": _("The coaching is completed."),
        "archive": _("The space is archived."),
    }[move]


def move_consequence(move: str) -> tuple[str, str]:
    """The question a move that cannot be undone asks first, and what it says will happen."""
    return {
        "complete": (
            _("Complete the coaching?"),
            _(
                "The coaching ends: no session may be booked any more and the booked ones are "
                "cancelled. A completed space cannot be activated again; it may then be archived."
            ),
        ),
        "archive": (
            _("Archive the space?"),
            _(
                "The space is closed for good: its goals and notes are kept but nobody may add "
                "to them any more. This cannot be undone."
            ),
        ),
    }.get(move, ("", ""))


def move_hint(move: str) -> str:
    """What the page says beside a move's button, before it is made."""
    return {
        "activate": _("Once the set-up is right: the coachee then sees the space and may book."),
        "pause": _("Booked sessions are cancelled; the coachee or you may resume later."),
        "resume": _("The coachee may book sessions again."),
        "complete": _("When the coaching is over. You will be asked to confirm."),
        "archive": _("Closes the space for good. You will be asked to confirm."),
    }[move]


def moves_for(space: spb.Space) -> list[Move]:
    """The moves the space's status and the reader's relation to it allow now."""
    relation = space.relation
    return [m for m in MOVES.values() if space.status in m.starts and relation in m.by]


def make_move(space: spb.Space, move: str) -> spb.Space:
    """The move, as the signed-in person; grpc.RpcError when the service refuses it."""
    method = getattr(clients().spaces, MOVES[move].method)
    moved: spb.Space = authed(clients(), method, spb.SpaceMoveRequest(name=space.name))
    return moved


def refusal(exc: grpc.RpcError) -> tuple[str, int]:
    """Why the service refused a move, in the page's language, and the page's status: 409 when
    the space's status changed meanwhile, so the page shows the space as it is now."""
    message, _problems, status = failed(exc)
    if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
        status = 409
    return message, status
