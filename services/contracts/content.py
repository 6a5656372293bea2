"""The content service's contract: the resource library (articles, videos, books, podcasts at
three levels: the platform's, a tenant's, a coach's own), the recommendations a coach makes of
them into a space; e-learning modules (a catalogue of the shipped ones and those operators
import from a folder), their assignment to a space and each coachee's progress; its events and
its method table (`ContentApi`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from services.kernel.events import EventPayload
from services.kernel.i18n import N_
from services.kernel.validation import MULTI_LINE

from . import personal_data as pd
from .base import (
    Contract,
    Empty,
    Id,
    Method,
    PageRequest,
    PingResponse,
    PublishingApi,
    web_address,
)
from .base import TenantKeyRotation as TenantKeyRotation  # re-exported: part of this API
from .base import TenantRef as TenantRef  # re-exported: part of this API

SERVICE = "content"

ResourceKind = Literal["article", "video", "book", "podcast"]
# global: the platform's library, curated by operators; tenant: a tenant's, by its admins;
# private: a coach's own.
Scope = Literal["global", "tenant", "private"]
LinkStatus = Literal["unchecked", "ok", "broken", "unreachable", "refused"]
RecommendationStatus = Literal["new", "read"]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Author = Annotated[str, StringConstraints(max_length=200)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\s,][^,]*$")]
Note = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
Query = Annotated[str, StringConstraints(max_length=200)]


def _web_address(value: str) -> str:
    """An http(s) address with a host, as a person would paste it."""
    if web_address(value) is None:
        problem = N_("must be a web address starting with https:// or http://")
        raise PydanticCustomError("text_or_date", problem, {"template": problem})
    return value


WebAddress = Annotated[
    str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_web_address)
]


class ResourceFields(Contract):
    kind: ResourceKind
    title: Title
    url: WebAddress
    author: Author = ""
    language: Language
    minutes: int = Field(default=0, ge=0, le=10_000, description="0: not said")
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    why: Note = ""  # a short note on why it helps


class CreateResourceRequest(ResourceFields):
    """global: operators; tenant: the tenant's admins; private: a coach, for themselves."""

    scope: Scope


class UpdateResourceRequest(ResourceFields):
    """Every field replaced (the scope stays)."""

    resource_id: Id


class ResourceRef(Contract):
    resource_id: Id


class SearchResourcesRequest(PageRequest):
    """Words of the title, author, tags and note (all of them, in any order), and filters."""

    query: Query = ""
    tags: list[Tag] = Field(default_factory=list, max_length=10)  # every one of them
    language: Language | None = None
    kind: ResourceKind | None = None
    scope: Scope | None = None


class Resource(Contract):
    resource_id: str
    scope: Scope
    tenant_id: str = ""  # tenant and private resources
    owner_person_id: str = ""  # private resources: their coach
    kind: ResourceKind
    title: str
    url: str
    author: str
    language: str
    minutes: int
    tags: list[str]
    why: str
    link_status: LinkStatus = "unchecked"  # shown to whoever may change the resource
    link_checked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ResourceList(Contract):
    resources: list[Resource]
    next_page_token: str = ""


class RecommendRequest(Contract):
    space_id: Id
    resource_id: Id
    note: Note = ""  # the coach's own words to the coachee (sealed at rest)


class ListRecommendationsRequest(PageRequest):
    space_id: Id


class RecommendationRef(Contract):
    recommendation_id: Id


class MarkRecommendationRequest(Contract):
    """The coachee's: read or not, and whether it helped (None: not said)."""

    recommendation_id: Id
    read: bool
    useful: bool | None = None


class RecommendedResource(Contract):
    """The resource as it was recommended (a copy: it stays whatever its owner does later)."""

    kind: ResourceKind
    title: str
    url: str
    author: str
    language: str
    minutes: int
    tags: list[str]
    why: str


class Recommendation(Contract):
    recommendation_id: str
    tenant_id: str
    space_id: str
    resource_id: str
    resource: RecommendedResource
    note: str
    recommended_by_person_id: str
    status: RecommendationStatus
    useful: bool | None = None
    created_at: datetime
    updated_at: datetime


class RecommendationList(Contract):
    recommendations: list[Recommendation]
    next_page_token: str = ""


# ---------------------------------------------------------------- modules

ModuleSlug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
LessonKey = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)?$")
]
ModuleSource = Literal["shipped", "imported"]
ProgressStatus = Literal["not_started", "started", "completed"]
# As the folder format bounds them (services/content/adapters/module_folder.py).
MAX_MODULE_FILES = 61
MAX_MODULE_FILE_CHARS = 64 * 1024


class ModuleFile(Contract):
    """One file of a module's folder: its path in the folder (`module.md`,
    `lessons/01-why.en.md`) and its text."""

    path: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    text: Annotated[str, StringConstraints(max_length=MAX_MODULE_FILE_CHARS), MULTI_LINE]


class ImportModuleRequest(Contract):
    """A module's folder, every file (docs/content/module-format.md). Operators only."""

    files: list[ModuleFile] = Field(min_length=1, max_length=MAX_MODULE_FILES)


class LocalText(Contract):
    """An author's text, in both languages of the platform."""

    en: str
    fr: str


class ModuleSummary(Contract):
    slug: str
    version: int
    source: ModuleSource
    title: LocalText
    summary: LocalText
    minutes: int
    lesson_count: int


class ModuleDetail(ModuleSummary):
    """A version with its lessons and blocks (`document`: adapters/module_document.py), for
    display: Markdown is shown through the kernel's sanitiser."""

    document: dict[str, Any]


class ImportModuleResponse(Contract):
    module: ModuleSummary
    imported: bool  # False: this very version was already published (nothing changed)


class ListModulesRequest(PageRequest):
    pass


class ModuleList(Contract):
    """The latest version of each module, by slug."""

    modules: list[ModuleSummary]
    next_page_token: str = ""


class ModuleRef(Contract):
    slug: ModuleSlug
    version: int = Field(default=0, ge=0, le=100_000, description="0: the latest")


class ModuleFolder(Contract):
    """A module version as its folder (docs/content/module-format.md): what ImportModule takes."""

    slug: str
    version: int
    files: list[ModuleFile]


class AssignModuleRequest(Contract):
    space_id: Id
    slug: ModuleSlug


class ListModuleAssignmentsRequest(PageRequest):
    space_id: Id


class ModuleAssignmentRef(Contract):
    assignment_id: Id


class LessonRequest(Contract):
    """A lesson of the assignment's module, by its key; empty to open the lesson to resume at."""

    assignment_id: Id
    lesson: LessonKey = ""


class ModuleProgress(Contract):
    """The coachee's progress, in the version they started (0 before they start)."""

    assignment_id: str
    status: ProgressStatus
    version: int = 0
    lessons: list[str] = Field(default_factory=list)  # the version's lesson keys, in order
    position: str = ""  # the lesson to resume at
    lessons_completed: list[str] = Field(default_factory=list)
    seconds: int = 0  # time spent (domain/progress.py counts it)
    started_at: datetime | None = None
    last_seen_at: datetime | None = None
    completed_at: datetime | None = None


class ModuleAssignment(Contract):
    assignment_id: str
    tenant_id: str
    space_id: str
    coachee_person_id: str
    slug: str
    title: LocalText  # of the version taken, else of the latest
    assigned_by_person_id: str
    created_at: datetime
    progress: ModuleProgress


class ModuleAssignmentList(Contract):
    assignments: list[ModuleAssignment]
    next_page_token: str = ""


class BlockAnsweredRequest(Contract):
    """The coachee answered a block of a lesson (its index in the lesson, from 0): a reflection
    saved into their journal, or a quiz submitted through assessment. Content records that they
    did, and when (an xAPI `answered` statement), never the answer."""

    assignment_id: Id
    lesson: LessonKey = Field(min_length=1)
    block: int = Field(ge=0, le=1000)
    kind: Literal["reflection", "quiz"]


# ---------------------------------------------------------------- the operator's LRS (xAPI)


class LrsSettingsInput(Contract):
    """The operator's learning record store. `secret` is write-only: empty keeps the current
    one (when the endpoint and key stay the same)."""

    endpoint: str = Field(max_length=500)
    key: str = Field(max_length=200)
    secret: str = Field(default="", max_length=500)
    enabled: bool = True


class LrsSettings(Contract):
    """Never the secret: whether one is kept. `pending`: statements the LRS does not have yet."""

    configured: bool = False
    endpoint: str = ""
    key: str = ""
    has_secret: bool = False
    enabled: bool = False
    updated_at: datetime | None = None
    updated_by_person_id: str | None = None
    pending: int = 0
    last_push_at: datetime | None = None
    last_error: str | None = None


# ---------------------------------------------------------------- events


class RecommendationEvent(EventPayload):
    """A recommendation's ids and state: never the coach's note, nor the resource's text."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "recommendation_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    recommendation_id: str
    tenant_id: str
    space_id: str
    resource_id: str
    status: RecommendationStatus
    useful: bool | None = None
    updated_at: datetime


class ResourceRecommended(RecommendationEvent):
    """A coach recommended a resource into a space."""

    TYPE: ClassVar[str] = "content.resource_recommended"


class RecommendationMarked(RecommendationEvent):
    """The coachee marked a recommendation read (or not) and useful (or not)."""

    TYPE: ClassVar[str] = "content.recommendation_marked"


class ModuleProgressEvent(EventPayload):
    """A coachee's progress through an assigned module: ids, version and counts, never what
    they wrote (reflections go to their journal, through spaces)."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "assignment_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    assignment_id: str
    tenant_id: str
    space_id: str
    coachee_person_id: str
    slug: str
    version: int
    status: ProgressStatus
    lesson_count: int
    lessons_completed: int
    seconds: int
    updated_at: datetime


class ModuleStarted(ModuleProgressEvent):
    """The coachee opened an assigned module for the first time."""

    TYPE: ClassVar[str] = "content.module_started"


class LessonCompleted(ModuleProgressEvent):
    """The coachee completed a lesson for the first time (`lesson`: its key)."""

    TYPE: ClassVar[str] = "content.lesson_completed"

    lesson: str


class ModuleCompleted(ModuleProgressEvent):
    """The coachee completed every lesson of the module (once)."""

    TYPE: ClassVar[str] = "content.module_completed"


class ModuleSnapshot(ModuleProgressEvent):
    """A coachee's progress through an assigned module as it is now, republished on an
    operator's command for consumers that start late (docs/adr/0022-republish.md); one for each
    module started (as the live events). The toolboxes do not subscribe to it."""

    TYPE: ClassVar[str] = "content.module_snapshot"

    started_at: datetime
    completed_at: datetime | None = None


EVENTS: tuple[type[EventPayload], ...] = (
    ResourceRecommended,
    RecommendationMarked,
    ModuleStarted,
    LessonCompleted,
    ModuleCompleted,
    ModuleSnapshot,
)


class ContentApi(PublishingApi):
    """What the content service serves."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    create_resource = Method(CreateResourceRequest, Resource)
    update_resource = Method(UpdateResourceRequest, Resource)
    delete_resource = Method(ResourceRef, Empty)
    get_resource = Method(ResourceRef, Resource)
    search_resources = Method(SearchResourcesRequest, ResourceList)
    recommend_resource = Method(RecommendRequest, Recommendation)
    list_recommendations = Method(ListRecommendationsRequest, RecommendationList)
    mark_recommendation = Method(MarkRecommendationRequest, Recommendation)
    import_module = Method(ImportModuleRequest, ImportModuleResponse)
    list_modules = Method(ListModulesRequest, ModuleList)
    get_module = Method(ModuleRef, ModuleDetail)
    export_module = Method(ModuleRef, ModuleFolder)
    assign_module = Method(AssignModuleRequest, ModuleAssignment)
    list_module_assignments = Method(ListModuleAssignmentsRequest, ModuleAssignmentList)
    open_lesson = Method(LessonRequest, ModuleProgress)
    complete_lesson = Method(LessonRequest, ModuleProgress)
    get_module_progress = Method(ModuleAssignmentRef, ModuleProgress)
    record_block_answered = Method(BlockAnsweredRequest, Empty)
    get_lrs_settings = Method(Empty, LrsSettings)
    set_lrs_settings = Method(LrsSettingsInput, LrsSettings)
    rotate_tenant_key = Method(TenantRef, TenantKeyRotation)
    export_personal_data = Method(Empty, pd.PersonalDataExport)
