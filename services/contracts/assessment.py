"""The assessment service's contract. First the instrument document, the import/export format
(YAML or JSON) in which coaches and publishers share instruments, and whose JSON schema is
published as docs/schemas/instrument.schema.json (`schema_text()`; a unit test keeps the file
up to date). services/assessment/adapters/documents.py turns a document into the domain's
Instrument, whose `check()` adds the rules a schema cannot say (bands covering the range, items a
dimension names). Then the service's RPC payloads, its events and its method table
(`AssessmentApi`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, with_config
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from services.kernel.events import EventPayload
from services.kernel.i18n import N_
from services.kernel.validation import MULTI_LINE

from . import personal_data as pd
from .base import Contract, Empty, Id, Method, PageRequest, PingResponse, PublishingApi
from .base import TenantKeyRotation as TenantKeyRotation  # re-exported: part of this API
from .base import TenantRef as TenantRef  # re-exported: part of this API

SERVICE = "assessment"
FORMAT = "ecoach.instrument/1"

Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
Line = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Paragraph = Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]
ItemKind = Literal[
    "likert", "single_choice", "multiple_choice", "numeric_scale", "ranking", "free_text"
]


class DocumentPart(Contract):
    """Strict as well as closed: "3" is not 3, and a misspelt field is an error."""

    model_config = ConfigDict(strict=True)


class LineText(DocumentPart):
    """A short text (a title, a prompt, a label) in English and French."""

    en: Line
    fr: Line


class ParagraphText(DocumentPart):
    """A longer text (a description, a band's meaning) in English and French."""

    en: Paragraph
    fr: Paragraph


class OptionDocument(DocumentPart):
    key: Key
    label: LineText
    value: float = Field(default=0, description="What choosing it scores (not for rankings).")


class ItemDocument(DocumentPart):
    id: Key
    kind: ItemKind
    prompt: LineText
    required: bool = True
    min: float = Field(default=0, description="likert and numeric_scale: the lowest answer.")
    max: float = Field(default=0, description="likert and numeric_scale: the highest answer.")
    step: float = Field(default=1, description="numeric_scale: the answers' spacing.")
    labels: list[LineText] = Field(
        default_factory=list, max_length=11, description="likert: one per point, min first."
    )
    options: list[OptionDocument] = Field(
        default_factory=list,
        max_length=30,
        description="single_choice, multiple_choice, ranking: the options.",
    )
    max_length: int = Field(default=0, ge=0, description="free_text: at most these characters.")


class BandDocument(DocumentPart):
    """Scores from `from` (included) up to `to` (excluded; the last band includes it)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: float = Field(alias="from")
    to: float
    label: LineText
    meaning: ParagraphText


class DimensionDocument(DocumentPart):
    id: Key
    title: LineText
    items: list[Key] = Field(min_length=1, max_length=200)
    method: Literal["sum", "mean", "weighted"] = "sum"
    weights: dict[Key, float] = Field(
        default_factory=dict, description="weighted: item id -> weight (1 when not given)."
    )
    reversed: list[Key] = Field(
        default_factory=list, description="Items scored min + max - answer."
    )
    bands: list[BandDocument] = Field(min_length=1, max_length=20)


class InstrumentDocument(DocumentPart):
    """An instrument, versioned: a changed instrument is published with the next version."""

    model_config = ConfigDict(title="ecoach instrument")

    format: Literal["ecoach.instrument/1"] = "ecoach.instrument/1"  # FORMAT
    slug: Slug
    version: int = Field(ge=1)
    title: LineText
    description: ParagraphText
    items: list[ItemDocument] = Field(min_length=1, max_length=200)
    dimensions: list[DimensionDocument] = Field(default_factory=list, max_length=50)


def schema_text() -> str:
    """The published schema, as docs/schemas/instrument.schema.json holds it."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **InstrumentDocument.model_json_schema(),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


# ---------------------------------------------------------------- RPC payloads

# A built-in instrument is named by its slug (`wheel-of-life`), a coach's by its id (`ins_...`).
InstrumentId = Annotated[
    str,
    StringConstraints(
        min_length=2, max_length=64, pattern=r"^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?|ins_[0-9a-f]+)$"
    ),
]
# An answer: a number (likert, numeric scale), an option key (single choice), option keys
# (multiple choice: those chosen; ranking: all of them, first ranked first), or free text.


def _answer_value(value: Any) -> Any:
    """A number, a text or a list of texts (the instrument checks the rest); a boolean is no
    number. A problem is named `answers.<item id>`, as the instrument's own checks name it."""
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return value
        problem = N_("must be a list of option keys")
    elif isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    else:
        problem = N_("must be a number")
    raise PydanticCustomError("text_or_date", problem, {"template": problem})


AnswerValue = Annotated[Any, AfterValidator(_answer_value)]
AssignmentStatus = Literal["assigned", "in_progress", "submitted", "retake_allowed"]
AttemptStatus = Literal["draft", "submitted"]


class ListInstrumentsRequest(PageRequest):
    """The catalogue first, then the caller's own instruments and those shared in the tenant."""


class InstrumentRef(Contract):
    instrument_id: InstrumentId
    version: int = Field(default=0, ge=0, le=100_000, description="0: the latest")
    # Read through this assignment: the version it uses, for the people of its space (a coach's
    # private instrument included, which nobody else but its author reads).
    assignment_id: Id | None = None


class CreateInstrumentRequest(Contract):
    document: InstrumentDocument
    shared: bool = False  # shared with the tenant's coaches, or private to its author


class UpdateInstrumentRequest(Contract):
    """A new version of one of the caller's instruments (its document's version is set to the
    next one: a version, once assigned, never changes)."""

    instrument_id: Id
    document: InstrumentDocument
    shared: bool = False


class Instrument(Contract):
    instrument_id: str
    slug: str
    version: int
    title: LineText
    built_in: bool
    shared: bool  # a coach's instrument shared within the tenant
    owner_person_id: str = ""  # a coach's instrument: its author
    document: InstrumentDocument | None = None  # in get_instrument, not in lists


class InstrumentList(Contract):
    instruments: list[Instrument]
    next_page_token: str = ""


class AssignInstrumentRequest(Contract):
    space_id: Id
    instrument_id: InstrumentId
    version: int = Field(default=0, ge=0, le=100_000, description="0: the latest")


class AssignmentRef(Contract):
    assignment_id: Id


class ListAssignmentsRequest(PageRequest):
    space_id: Id


class AnswersRequest(Contract):
    """A draft (partial answers allowed) or a submission (every required item answered)."""

    assignment_id: Id
    answers: Annotated[dict[Key, AnswerValue], MULTI_LINE] = Field(
        default_factory=dict, max_length=200
    )


class AttemptRef(Contract):
    assignment_id: Id
    number: int = Field(ge=1, le=10_000)


class DimensionResult(Contract):
    dimension: str
    title: LineText
    score: float  # 0 to 100
    raw: float
    lowest: float
    highest: float
    band: LineText
    interpretation: ParagraphText


class Attempt(Contract):
    assignment_id: str
    number: int
    status: AttemptStatus
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    answers: dict[str, AnswerValue] | None = None  # the coachee's; a submitted one's for coaches
    results: list[DimensionResult] = Field(default_factory=list)  # once submitted


@with_config(ConfigDict(extra="forbid"))
class ScoreValue(TypedDict):
    """An attempt's score on one dimension, as an assignment lists it: values only; the
    dimension's title and the band's texts are the assignment's `dimensions`, once. A typed
    dict rather than a model: an assignment lists 200 attempts of 9 dimensions and more, and
    each contract model costs microseconds to build and check (bench/assessment.py)."""

    dimension: str
    score: float  # 0 to 100
    raw: float
    band: int  # the band's index in the dimension's `bands`


class AttemptSummary(Contract):
    """An attempt as an assignment lists it: its state and dates, and once submitted its score
    values; never its answers (GetAttempt gives one attempt whole)."""

    number: int
    status: AttemptStatus
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    scores: list[ScoreValue] = Field(default_factory=list)  # once submitted


class BandText(Contract):
    """One band of a dimension: raw scores from `lower` (included) up to `upper` (excluded;
    the last band includes it), and what they mean."""

    lower: float
    upper: float
    label: LineText
    meaning: ParagraphText


class DimensionBands(Contract):
    """A dimension of the assigned version: its title, its raw score's range and its bands'
    texts, which every attempt's `ScoreValue` points into."""

    dimension: str
    title: LineText
    lowest: float
    highest: float
    bands: list[BandText]


class Assignment(Contract):
    assignment_id: str
    tenant_id: str
    space_id: str
    instrument_id: str
    slug: str
    version: int
    title: LineText
    status: AssignmentStatus
    attempts_allowed: int
    assigned_by_person_id: str
    created_at: datetime
    updated_at: datetime
    # The version's dimensions with their band texts, once for every attempt.
    dimensions: list[DimensionBands] = Field(default_factory=list)
    attempts: list[AttemptSummary] = Field(default_factory=list)  # oldest first


class AssignmentList(Contract):
    assignments: list[Assignment]
    next_page_token: str = ""


@with_config(ConfigDict(extra="forbid"))
class TrendPoint(TypedDict):
    """An attempt's score (0 to 100) on a dimension. A typed dict, as ScoreValue: a trend of
    200 attempts has 200 of them per dimension."""

    number: int
    submitted_at: datetime
    score: float


class TrendLine(Contract):
    dimension: str
    title: LineText
    points: list[TrendPoint]
    change: float  # from the first attempt to the last


class Trend(Contract):
    assignment_id: str
    dimensions: list[TrendLine]


# ---------------------------------------------------------------- 360 feedback

RaterGroup = Literal["manager", "peer", "direct_report", "other"]
# The same shape identity checks addresses with; a rater has no account to confirm it.
RaterEmail = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", strip_whitespace=True
    ),
]
# A rater link's token (derived, 256 bits: 43 characters).
RaterToken = Annotated[str, StringConstraints(min_length=16, max_length=128)]


class RaterInvite(Contract):
    email: RaterEmail
    group: RaterGroup


class InviteRatersRequest(Contract):
    """The coachee asks raters for feedback on an assignment; each is mailed a one-time link."""

    assignment_id: Id
    raters: list[RaterInvite] = Field(min_length=1, max_length=30)


class RaterCounts(Contract):
    """How many raters were asked and where they stand: counts only, never who."""

    assignment_id: str
    invited: int  # links still open
    answered: int
    expired: int


class RaterTokenRequest(Contract):
    token: RaterToken


class RaterAnswersRequest(Contract):
    token: RaterToken
    answers: Annotated[dict[Key, AnswerValue], MULTI_LINE] = Field(max_length=200)


class RaterForm(Contract):
    """What a rater's link opens: the questionnaire, in French and English, and until when."""

    group: RaterGroup
    expires_at: datetime
    document: InstrumentDocument


class RaterReceipt(Contract):
    answered_at: datetime


class GroupComment(Contract):
    item_id: str
    prompt: LineText
    texts: list[str]  # sorted: their order says nothing of who wrote what


class FeedbackGroup(Contract):
    group: Literal["self", "manager", "peer", "direct_report", "others"]
    count: int
    results: list[DimensionResult]
    comments: list[GroupComment] = Field(default_factory=list)


class Feedback(Contract):
    """The 360's results: the coachee's own latest submitted attempt, then the rater groups with
    at least 3 answers, smaller ones merged into "others" (itself shown from 3); `hidden` counts
    the answers not shown."""

    assignment_id: str
    groups: list[FeedbackGroup]
    hidden: int
    raters: RaterCounts


# ---------------------------------------------------------------- events


class AssignmentEvent(EventPayload):
    """An assignment's ids and state after the change: never answers nor scores."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "assignment_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    assignment_id: str
    tenant_id: str
    space_id: str
    instrument_id: str
    instrument_slug: str
    instrument_version: int
    status: AssignmentStatus
    attempts_allowed: int
    updated_at: datetime


class AssignmentCreated(AssignmentEvent):
    """A coach assigned an instrument in a space."""

    TYPE: ClassVar[str] = "assessment.assignment_created"


class AttemptSubmitted(AssignmentEvent):
    """The coachee submitted an attempt (its number)."""

    TYPE: ClassVar[str] = "assessment.attempt_submitted"

    attempt_number: int


class AssignmentSnapshot(AssignmentEvent):
    """An assignment's current state, republished on an operator's command for consumers that
    start late (docs/adr/0022-republish.md): with when each submitted attempt was submitted (in
    attempt order). Never answers nor scores. The toolboxes do not subscribe to it."""

    TYPE: ClassVar[str] = "assessment.assignment_snapshot"

    attempts_submitted: int
    submitted_at: list[datetime]


class RetakeAllowed(AssignmentEvent):
    """The coach allowed one more attempt."""

    TYPE: ClassVar[str] = "assessment.retake_allowed"


class RaterEvent(EventPayload):
    """A 360 rater's ids and state: never the address, the group's answers or who."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "assignment_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    assignment_id: str
    tenant_id: str
    space_id: str
    rater_id: str
    status: Literal["invited", "answered", "expired"]
    updated_at: datetime


class RaterInvited(RaterEvent):
    """The coachee asked a rater for feedback (the mail with the link follows)."""

    TYPE: ClassVar[str] = "assessment.rater_invited"


class RaterAnswered(RaterEvent):
    """A rater answered through their link (used up; their address deleted)."""

    TYPE: ClassVar[str] = "assessment.rater_answered"


class RaterExpired(RaterEvent):
    """A rater's link expired unanswered (their address deleted)."""

    TYPE: ClassVar[str] = "assessment.rater_expired"


EVENTS: tuple[type[EventPayload], ...] = (
    AssignmentCreated,
    AttemptSubmitted,
    RetakeAllowed,
    AssignmentSnapshot,
    RaterInvited,
    RaterAnswered,
    RaterExpired,
)


class AssessmentApi(PublishingApi):
    """What the assessment service serves."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    list_instruments = Method(ListInstrumentsRequest, InstrumentList)
    get_instrument = Method(InstrumentRef, Instrument)
    create_instrument = Method(CreateInstrumentRequest, Instrument)
    update_instrument = Method(UpdateInstrumentRequest, Instrument)
    assign_instrument = Method(AssignInstrumentRequest, Assignment)
    get_assignment = Method(AssignmentRef, Assignment)
    list_assignments = Method(ListAssignmentsRequest, AssignmentList)
    save_draft = Method(AnswersRequest, Attempt)
    submit_attempt = Method(AnswersRequest, Attempt)
    get_attempt = Method(AttemptRef, Attempt)
    allow_retake = Method(AssignmentRef, Assignment)
    get_trend = Method(AssignmentRef, Trend)
    invite_raters = Method(InviteRatersRequest, RaterCounts)
    get_feedback = Method(AssignmentRef, Feedback)
    get_rater_form = Method(RaterTokenRequest, RaterForm)
    submit_rater_answers = Method(RaterAnswersRequest, RaterReceipt)
    rotate_tenant_key = Method(TenantRef, TenantKeyRotation)
    export_personal_data = Method(Empty, pd.PersonalDataExport)
