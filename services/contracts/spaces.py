"""The spaces service's contract: its RPC payloads and the events it publishes.

A space is one coaching engagement: its *set-up* (coachee, coach, optional co-coach, cadence,
number of sessions, dates), which HR sees, and its *content* (project, objectives, context, in
the coachee's words), which only the participants see. Events carry the full set-up and status
(rule 4), never content.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from services.kernel.events import EventPayload
from services.kernel.personal_data import completion_event
from services.kernel.validation import MULTI_LINE

from . import personal_data as pd
from .base import Contract, Empty, Id, Method, PageRequest, PingResponse, PublishingApi
from .base import TenantKeyRotation as TenantKeyRotation  # re-exported: part of this API
from .base import TenantRef as TenantRef  # re-exported: part of this API

SERVICE = "spaces"

Cadence = Literal["weekly", "every_two_weeks", "every_four_weeks", "monthly"]
# Free text people write over several lines (services/kernel/validation.py: text rules).
Text = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]


class SpaceStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class SetUpInput(Contract):
    coachee_member_id: Id
    coach_member_id: Id
    co_coach_member_id: Id | None = None
    cadence: Cadence
    sessions_planned: int = Field(ge=1, le=200)
    starts_on: date
    ends_on: date | None = None


class ContentInput(Contract):
    project: Text = ""
    objectives: Text = ""
    context: Text = ""


class CreateSpaceRequest(Contract):
    tenant_id: Id
    set_up: SetUpInput
    content: ContentInput = ContentInput()


class ImportSpacesRequest(Contract):
    """A CSV file (see services/spaces/domain/importing.py), base64 over RPC."""

    tenant_id: Id
    csv_base64: str = Field(min_length=1, max_length=1_500_000)


class ImportedSpace(Contract):
    line: int
    space_id: str


class RejectedSpaceRow(Contract):
    line: int
    reason: str


class ImportSpacesResponse(Contract):
    created: list[ImportedSpace]
    rejected: list[RejectedSpaceRow]


class SpaceRef(Contract):
    tenant_id: Id
    space_id: Id


class ListSpacesRequest(PageRequest):
    tenant_id: Id


class UpdateSetUpRequest(Contract):
    tenant_id: Id
    space_id: Id
    set_up: SetUpInput  # the whole set-up as it should be


class UpdateContentRequest(Contract):
    tenant_id: Id
    space_id: Id
    update_mask: list[Literal["project", "objectives", "context"]] = Field(min_length=1)
    project: Text = ""
    objectives: Text = ""
    context: Text = ""


class ChangeCoachRequest(Contract):
    tenant_id: Id
    space_id: Id
    coach_member_id: Id


class ChangeCoCoachRequest(Contract):
    tenant_id: Id
    space_id: Id
    co_coach_member_id: Id | None = None  # none: no co-coach any more


class PendingCoachChangeRequest(Contract):
    """The coachee's: see, accept or decline the coach change waiting for their agreement."""

    tenant_id: Id
    space_id: Id


class MoveSpaceRequest(Contract):
    tenant_id: Id
    space_id: Id
    move: Literal["activate", "pause", "resume", "complete", "archive"]


class ParticipantView(Contract):
    member_id: str
    person_id: str


class PendingCoachChange(Contract):
    """A coach or co-coach proposed who oversees the tenant (a tenant admin, an operator):
    they take the seat only once the coachee accepts."""

    seat: Literal["coach", "co_coach"]
    proposed: ParticipantView
    proposed_by: str  # person id
    proposed_at: datetime


class SetUpView(Contract):
    coachee: ParticipantView
    coach: ParticipantView
    co_coach: ParticipantView | None = None
    cadence: Cadence
    sessions_planned: int
    starts_on: date
    ends_on: date | None = None


class ContentView(Contract):
    project: str
    objectives: str
    context: str


class Space(Contract):
    space_id: str
    tenant_id: str
    status: SpaceStatus
    set_up: SetUpView
    # Only for the coachee, coach and co-coach; absent for HR.
    content: ContentView | None = None
    # How the caller sees it: coachee, coach, co_coach or tenant_admin.
    relation: Literal["coachee", "coach", "co_coach", "tenant_admin"]
    created_by: str
    created_at: datetime
    updated_at: datetime
    # A coach change waiting for the coachee's agreement (set-up, not content: all see it).
    pending_coach_change: PendingCoachChange | None = None
    # For a coach or co-coach who joined after the start, until the coachee agrees: the content
    # and the goals and notes written before they came are hidden from them.
    earlier_content_hidden: bool = False
    # For the coachee: the coach or co-coach of now joined after the start and does not see what
    # was written before them until the coachee agrees (ShareEarlierContent).
    earlier_content_hidden_from_coaches: bool = False


class SpaceList(Contract):
    spaces: list[Space]
    next_page_token: str = ""


# ---------------------------------------------------------------- goals


class MilestoneInput(Contract):
    id: str = ""  # keep it to keep the milestone; empty for a new one
    title: str = Field(max_length=400)
    due_on: date | None = None
    done: bool = False


class GoalInput(Contract):
    title: str = Field(max_length=400)
    description: Text = ""
    due_on: date | None = None
    progress: int = 0
    milestones: list[MilestoneInput] = Field(default=[], max_length=20)


class CreateGoalRequest(Contract):
    tenant_id: Id
    space_id: Id
    goal: GoalInput


class GoalRef(Contract):
    tenant_id: Id
    space_id: Id
    goal_id: Id


class UpdateGoalRequest(Contract):
    tenant_id: Id
    space_id: Id
    goal_id: Id
    update_mask: list[Literal["title", "description", "due_on", "progress", "milestones"]] = Field(
        min_length=1
    )
    goal: GoalInput


class ListGoalsRequest(PageRequest):
    tenant_id: Id
    space_id: Id


class GoalHistoryRequest(PageRequest):
    tenant_id: Id
    space_id: Id
    goal_id: Id


class MilestoneView(Contract):
    id: str
    title: str
    due_on: date | None = None
    done: bool


class Goal(Contract):
    goal_id: str
    space_id: str
    tenant_id: str
    title: str
    description: str
    due_on: date | None = None
    progress: int
    status: Literal["open", "achieved", "archived"]
    milestones: list[MilestoneView]
    created_by: str
    created_at: datetime
    updated_at: datetime


class GoalList(Contract):
    goals: list[Goal]
    next_page_token: str = ""


class GoalChange(Contract):
    changed_by: str
    changed_at: datetime
    changes: dict[str, list[Any]]  # field -> [before, after]


class GoalHistory(Contract):
    changes: list[GoalChange]
    next_page_token: str = ""


# ---------------------------------------------------------------- notes

NoteKind = Literal["shared", "coach_private", "journal"]


class LinkInput(Contract):
    url: str = Field(max_length=4000)
    title: str = Field(max_length=400)


class CreateNoteRequest(Contract):
    tenant_id: Id
    space_id: Id
    kind: NoteKind
    body: Annotated[str, MULTI_LINE] = Field(
        max_length=40_000
    )  # the domain's limit (20,000) gives the clear error
    links: list[LinkInput] = Field(default=[], max_length=50)
    parent_note_id: Id | None = None
    session_id: Id | None = None  # a session of this space the (shared) note is about


class NoteRef(Contract):
    tenant_id: Id
    space_id: Id
    note_id: Id


class ListNotesRequest(PageRequest):
    tenant_id: Id
    space_id: Id
    kinds: list[NoteKind] = []


class UpdateNoteRequest(Contract):
    tenant_id: Id
    space_id: Id
    note_id: Id
    update_mask: list[Literal["body", "links", "session_id"]] = Field(min_length=1)
    body: Annotated[str, MULTI_LINE] = Field(default="", max_length=40_000)
    links: list[LinkInput] = Field(default=[], max_length=50)
    session_id: Id | None = None


class NotePageRequest(PageRequest):
    tenant_id: Id
    space_id: Id
    note_id: Id


class SpacePageRequest(PageRequest):
    tenant_id: Id
    space_id: Id


class LinkView(Contract):
    url: str
    title: str


class Note(Contract):
    note_id: str
    space_id: str
    tenant_id: str
    kind: NoteKind
    author_person_id: str  # empty once its author was erased
    author_erased: bool = False  # written by a former participant whose data was erased
    parent_note_id: str | None = None
    body: str  # Markdown, as written
    body_html: str  # rendered and sanitised on the server
    links: list[LinkView]
    session_id: str | None = None
    created_at: datetime
    updated_at: datetime


class NoteList(Contract):
    notes: list[Note]
    next_page_token: str = ""


class NoteRevision(Contract):
    replaced_at: datetime
    body: str


class NoteRevisionList(Contract):
    revisions: list[NoteRevision]
    next_page_token: str = ""


class NoteRead(Contract):
    note_id: str
    space_id: str
    tenant_id: str
    reader_person_id: str
    read_at: datetime


class NoteReadList(Contract):
    reads: list[NoteRead]
    next_page_token: str = ""


# ---------------------------------------------------------------- dashboards


class RosterEntry(Contract):
    space: Space  # set-up and status (no content: a roster is a list)
    last_activity_at: datetime
    # Shared notes by others since the caller's last visit (GetSpace, ListNotes), or ever.
    new_shared_notes: int = 0
    # The space's toolbox (ADR 0018): its tools unlocked, and all its tools, removed ones left
    # out (0 and 0: an empty toolbox).
    tools_open: int = 0
    tools_total: int = 0


class CoachRoster(Contract):
    entries: list[RosterEntry]


# ---------------------------------------------------------------- toolbox (ADR 0018)


class ToolKind(StrEnum):
    """What a tool of a space's toolbox is, and so which service serves it."""

    ASSESSMENT = "assessment"  # target: an assessment assignment of the space (asg_...)
    RESOURCE = "resource"  # target: a content recommendation into the space
    MODULE = "module"  # target: a content module assignment of the space
    VIDEO_ROOM = "video_room"  # no target: the space's video room (scheduling)
    NOTE_TEMPLATE = "note_template"  # no target: a template of shared note, kept by spaces


class ToolState(StrEnum):
    LOCKED = "locked"  # not yet unlocked, or locked again by the coach
    UNLOCKED = "unlocked"
    REMOVED = "removed"  # taken out of the toolbox: its target stays closed to the coachee


ToolLabel = Annotated[str, StringConstraints(max_length=200)]
ToolTemplate = Annotated[str, StringConstraints(max_length=20_000), MULTI_LINE]
LockReasonKind = Literal[
    "on_date", "after_sessions_held", "after_tool_done", "by_hand", "locked_by_coach"
]


class ToolRule(Contract):
    """When a tool unlocks: the AND of the conditions given; none given, at once."""

    # 00:00 of this date in the coachee's time zone.
    on_date: date | None = None
    # Once this many sessions of the space were held (corrected attendance never relocks).
    after_sessions_held: int | None = Field(default=None, ge=1, le=200)
    # Once this other tool of the space is done (no cycles).
    after_tool_id: Id | None = None
    # Only when the coach unlocks it (UnlockTool).
    by_hand: bool = False


class AddToolRequest(Contract):
    tenant_id: Id
    space_id: Id
    kind: ToolKind
    # assessment: an assignment id; resource: a recommendation id; module: a module
    # assignment id; none for video_room and note_template.
    target_id: Id | None = None
    label: ToolLabel
    template: ToolTemplate = ""  # a note template's text
    rule: ToolRule = ToolRule()


class ToolRef(Contract):
    tenant_id: Id
    space_id: Id
    tool_id: Id


class UpdateToolRequest(Contract):
    tenant_id: Id
    space_id: Id
    tool_id: Id
    update_mask: list[Literal["label", "template", "rule"]] = Field(min_length=1)
    label: ToolLabel = ""
    template: ToolTemplate = ""
    rule: ToolRule = ToolRule()


class MoveToolRequest(Contract):
    tenant_id: Id
    space_id: Id
    tool_id: Id
    position: int = Field(ge=0, le=1000)  # 0: first; past the end: last


class LockReason(Contract):
    """One condition a locked tool still waits for, for the web to phrase: `on_date` ("from
    12 March"), `after_sessions_held` ("after your 2nd session"), `after_tool_done` (after
    `tool_id`), `by_hand` (when the coach opens it), `locked_by_coach`."""

    kind: LockReasonKind
    on_date: date | None = None
    sessions_held: int | None = None
    tool_id: str | None = None


class Tool(Contract):
    tool_id: str
    space_id: str
    tenant_id: str
    kind: ToolKind
    # For the coachee, only once unlocked: the target and a note template's text.
    target_id: str | None = None
    label: str
    template: str = ""
    position: int
    state: ToolState
    done: bool
    # The coach's and co-coach's only (the coachee reads `locked_reasons`).
    rule: ToolRule | None = None
    locked_reasons: list[LockReason] = []
    unlocked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ToolList(Contract):
    tools: list[Tool]  # in order; removed tools left out
    sessions_held: int  # so far in the space (the web phrases "after your 2nd session")


# ---------------------------------------------------------------- events


class SpaceEvent(EventPayload):
    """A space's full set-up and status after the change (ids and facts, never content)."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "space_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    space_id: str
    tenant_id: str
    status: SpaceStatus
    coachee_person_id: str
    coach_person_id: str
    co_coach_person_id: str | None = None
    cadence: Cadence
    sessions_planned: int
    starts_on: date
    ends_on: date | None = None
    updated_at: datetime


class SpaceCreated(SpaceEvent):
    """A draft space was opened (by a tenant admin or its coach)."""

    TYPE: ClassVar[str] = "spaces.space_created"


class SpaceActivated(SpaceEvent):
    """The coach started the engagement: the coachee sees the space from now on."""

    TYPE: ClassVar[str] = "spaces.space_activated"


class SpacePaused(SpaceEvent):
    """The coach or the coachee paused the engagement."""

    TYPE: ClassVar[str] = "spaces.space_paused"


class SpaceResumed(SpaceEvent):
    """The coach or the coachee resumed a paused engagement."""

    TYPE: ClassVar[str] = "spaces.space_resumed"


class SpaceCompleted(SpaceEvent):
    """The coach closed the engagement as completed."""

    TYPE: ClassVar[str] = "spaces.space_completed"


class SpaceArchived(SpaceEvent):
    """The space was archived (from completed or draft): read only from now on."""

    TYPE: ClassVar[str] = "spaces.space_archived"


class SpaceSetUpChanged(SpaceEvent):
    """The draft's set-up was edited (coachee, coaches, cadence, dates)."""

    TYPE: ClassVar[str] = "spaces.space_set_up_changed"


class GoalAchieved(EventPayload):
    """A goal of a space reached full progress (ids and times only: never its words)."""

    TYPE: ClassVar[str] = "spaces.goal_achieved"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "goal_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    goal_id: str
    space_id: str
    tenant_id: str
    achieved_at: datetime


class GoalSnapshot(EventPayload):
    """A goal's current state, republished for late consumers (ADR 0022); never its words."""

    TYPE: ClassVar[str] = "spaces.goal_snapshot"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "goal_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    goal_id: str
    space_id: str
    tenant_id: str
    status: Literal["open", "achieved", "archived"]
    achieved_at: datetime | None = None  # when it last became achieved (kept if archived)
    updated_at: datetime


class NoteShared(EventPayload):
    """A shared note (or a reply) was written in a space (ids and times only)."""

    TYPE: ClassVar[str] = "spaces.note_shared"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "note_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    note_id: str
    space_id: str
    tenant_id: str
    author_person_id: str
    shared_at: datetime


class SpaceSnapshot(SpaceEvent):
    """A space's current state, republished for late consumers (ADR 0022); no copy takes it."""

    TYPE: ClassVar[str] = "spaces.space_snapshot"


class CoachChanged(SpaceEvent):
    """A tenant admin gave the space another coach; the previous one has no access any more."""

    TYPE: ClassVar[str] = "spaces.coach_changed"

    previous_coach_person_id: str


class CoCoachChanged(SpaceEvent):
    """The co-coach was added, replaced or removed (`co_coach_person_id` empty)."""

    TYPE: ClassVar[str] = "spaces.co_coach_changed"

    previous_co_coach_person_id: str | None = None


class CoachChangeProposed(SpaceEvent):
    """A tenant admin or an operator was proposed as the coach or co-coach (`seat`): the
    set-up is unchanged until the coachee accepts (then `coach_changed` or
    `co_coach_changed` follows); the coachee is told that a change awaits them."""

    TYPE: ClassVar[str] = "spaces.coach_change_proposed"

    seat: Literal["coach", "co_coach"]
    proposed_person_id: str


class ToolEvent(EventPayload):
    """A tool of a space's toolbox, its full state after the change (ids, kind and state, never
    the coach's label or rule texts). The service that serves `target_id` keeps a copy and
    refuses the target to the coachee while the tool is `locked` (a target in no toolbox, or
    whose tool was removed, is served as before); the envelope's sequence orders the changes of
    one tool (docs/adr/0019-toolbox-gates.md)."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "tool_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    tool_id: str
    space_id: str
    tenant_id: str
    kind: ToolKind
    target_id: str | None = None
    state: ToolState
    done: bool = False
    updated_at: datetime


class ToolAdded(ToolEvent):
    """The coach added a tool to the space's toolbox (locked, or unlocked when its rule is
    already met)."""

    TYPE: ClassVar[str] = "spaces.tool_added"


class ToolUnlocked(ToolEvent):
    """A tool became available to the coachee: its rule was met, or the coach unlocked it."""

    TYPE: ClassVar[str] = "spaces.tool_unlocked"


class ToolLocked(ToolEvent):
    """The coach locked an unlocked tool again: its target is refused to the coachee."""

    TYPE: ClassVar[str] = "spaces.tool_locked"


class ToolRemoved(ToolEvent):
    """The coach removed the tool from the toolbox; its target stays closed to the coachee
    (removing takes a tool out of the coachee's space, it never hands over what was locked),
    until a tool added again for it is unlocked."""

    TYPE: ClassVar[str] = "spaces.tool_removed"


class ToolDone(ToolEvent):
    """The tool's work is done (its assessment submitted, its module completed, its resource
    marked): tools waiting on it may unlock."""

    TYPE: ClassVar[str] = "spaces.tool_done"


class ToolSnapshot(ToolEvent):
    """A tool's current state, republished for late consumers (ADR 0022); no gate takes it."""

    TYPE: ClassVar[str] = "spaces.tool_snapshot"


TOOL_EVENTS: tuple[type[ToolEvent], ...] = (
    ToolAdded,
    ToolUnlocked,
    ToolLocked,
    ToolRemoved,
    ToolDone,
)


# The event of each lifecycle move (the domain's MOVE_EVENTS names them).
MOVE_EVENTS: dict[str, type[SpaceEvent]] = {
    "activated": SpaceActivated,
    "paused": SpacePaused,
    "resumed": SpaceResumed,
    "completed": SpaceCompleted,
    "archived": SpaceArchived,
}

# Every event spaces publishes (the event catalogue is generated from these).
EVENTS: tuple[type[EventPayload], ...] = (
    SpaceCreated,
    SpaceActivated,
    SpacePaused,
    SpaceResumed,
    SpaceCompleted,
    SpaceArchived,
    SpaceSetUpChanged,
    CoachChanged,
    CoCoachChanged,
    CoachChangeProposed,
    GoalAchieved,
    NoteShared,
    *TOOL_EVENTS,
    *(SpaceSnapshot, GoalSnapshot, ToolSnapshot),  # ADR 0022
    completion_event(SERVICE),  # spaces.person_erased: its part of an erasure is done
)


# ---------------------------------------------------------------- methods


class SpacesApi(PublishingApi):
    """What the spaces service serves (its `@rpc` methods, in the order of its service.py)."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    create_space = Method(CreateSpaceRequest, Space)
    import_spaces = Method(ImportSpacesRequest, ImportSpacesResponse)
    get_space = Method(SpaceRef, Space)
    list_spaces = Method(ListSpacesRequest, SpaceList)
    update_set_up = Method(UpdateSetUpRequest, Space)
    change_coach = Method(ChangeCoachRequest, Space)
    change_co_coach = Method(ChangeCoCoachRequest, Space)
    get_pending_coach_change = Method(PendingCoachChangeRequest, PendingCoachChange)
    accept_coach_change = Method(PendingCoachChangeRequest, Space)
    decline_coach_change = Method(PendingCoachChangeRequest, Space)
    share_earlier_content = Method(SpaceRef, Space)
    update_content = Method(UpdateContentRequest, Space)
    move_space = Method(MoveSpaceRequest, Space)
    create_goal = Method(CreateGoalRequest, Goal)
    update_goal = Method(UpdateGoalRequest, Goal)
    archive_goal = Method(GoalRef, Goal)
    get_goal = Method(GoalRef, Goal)
    list_goals = Method(ListGoalsRequest, GoalList)
    goal_history = Method(GoalHistoryRequest, GoalHistory)
    create_note = Method(CreateNoteRequest, Note)
    get_note = Method(NoteRef, Note)
    list_notes = Method(ListNotesRequest, NoteList)
    update_note = Method(UpdateNoteRequest, Note)
    delete_note = Method(NoteRef, Empty)
    list_note_revisions = Method(NotePageRequest, NoteRevisionList)
    list_note_reads = Method(SpacePageRequest, NoteReadList)
    list_refused_note_reads = Method(PageRequest, NoteReadList)
    get_coach_roster = Method(ListSpacesRequest, CoachRoster)
    rotate_tenant_key = Method(TenantRef, TenantKeyRotation)
    export_personal_data = Method(Empty, pd.PersonalDataExport)
    add_tool = Method(AddToolRequest, Tool)
    update_tool = Method(UpdateToolRequest, Tool)
    list_tools = Method(SpaceRef, ToolList)
    unlock_tool = Method(ToolRef, Tool)
    lock_tool = Method(ToolRef, Tool)
    move_tool = Method(MoveToolRequest, ToolList)
    remove_tool = Method(ToolRef, Empty)
