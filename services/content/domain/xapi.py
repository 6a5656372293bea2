"""xAPI 1.0.3 statements of a coachee's e-learning (ADR 0016): what they may carry and how they
are built.

Three verbs, ADL's own: *experienced* (a lesson viewed), *answered* (a reflection prompt or a
quiz answered) and *completed* (a module completed). Every statement of one attempt at a module
carries the attempt as its `context.registration`, so an LRS groups them per attempt.

What a statement carries is decided by PRODUCT's confidentiality contract: the statements go to a
learning record store configured by the **operator**, who may see no person's module progress,
and never to the employer, who sees aggregate completion only. So:

- the actor is an **account** whose `homePage` is the deployment's public URL and whose `name`
  is an opaque, random **pseudonym** kept by the content service per person and tenant
  (`new_pseudonym`): never an email, a name or a person id, and unlinkable once the content
  service deletes it at erasure;
- a statement never holds an **answer** (no `result.response`), a **score** or success (no
  `result.score`, no `result.success`): the models below have no field for them, and refuse
  unknown fields;
- activities are identified by IRIs under the deployment's URL built from ids; a title is sent
  only when the caller passes one, which it does for published modules only (a coach's private
  module is free text that may be about one coachee);
- what remains: which lesson, prompt or module, when, for how long, in which attempt and
  version (`context.revision`) and language.

The models are pydantic models of the subset of xAPI that ecoach sends; the tests check what
they build against the vendored xAPI 1.0.x JSON schema (docs/schemas/xapi/). Statement ids are
derived from a caller's key (a domain event's id), so building the same fact again gives the same
statement, and an LRS that receives it twice stores it once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.kernel.ids import new_id

XAPI_VERSION: Final = "1.0.3"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITY_TYPES = "http://adlnet.gov/expapi/activities/"
PLATFORM = "ecoach"

# Fixed namespaces for the ids ecoach derives (uuid5): changing them would change every id.
STATEMENT_NAMESPACE = uuid.UUID("5d3c2f0e-6a1b-5c8e-9f47-2b0e8d1a7c31")
REGISTRATION_NAMESPACE = uuid.UUID("a9e4b6d2-3f5c-5e17-8b20-c4d1f7a9e063")

PSEUDONYM_PREFIX = "lrn"
# What new_pseudonym makes, and nothing else: a person id (`per_...`) is refused by mistake too.
_PSEUDONYM = re.compile(r"^lrn_[0-9a-f]{24}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Verb(StrEnum):
    EXPERIENCED = "experienced"
    ANSWERED = "answered"
    COMPLETED = "completed"

    @property
    def iri(self) -> str:
        return ADL_VERBS + self.value


class ActivityType(StrEnum):
    MODULE = "module"
    LESSON = "lesson"
    QUESTION = "question"  # a reflection prompt
    ASSESSMENT = "assessment"  # a quiz (taken through the assessment service)

    @property
    def iri(self) -> str:
        return ADL_ACTIVITY_TYPES + self.value


AnswerKind = Literal["reflection", "quiz"]
_ANSWERED_TYPE: dict[str, ActivityType] = {
    "reflection": ActivityType.QUESTION,
    "quiz": ActivityType.ASSESSMENT,
}


def new_pseudonym() -> str:
    """A learner's name in statements: random, kept by the content service per person and tenant
    and shown to nobody but that person (in their export). Deleting it at erasure leaves the
    LRS's statements about nobody."""
    return new_id(PSEUDONYM_PREFIX)


def registration_of(attempt_id: str) -> uuid.UUID:
    """The xAPI registration (a UUID) of one attempt at a module: derived from its id, so every
    statement of the attempt carries the same one without storing it."""
    return uuid.uuid5(REGISTRATION_NAMESPACE, attempt_id)


def statement_id_of(key: str) -> uuid.UUID:
    """A statement's id from the key of the fact it records (a domain event's id, say)."""
    return uuid.uuid5(STATEMENT_NAMESPACE, key)


def xapi_timestamp(at: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: `2026-12-06T09:30:00.000Z`."""
    if at.tzinfo is None:
        raise ValueError("an xAPI timestamp needs a timezone-aware datetime")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def xapi_duration(spent: timedelta) -> str:
    """ISO 8601 duration to the hundredth of a second, as xAPI keeps them: `PT1H2M3.5S`."""
    centis = round(spent.total_seconds() * 100)
    if centis < 0:
        raise ValueError("a duration cannot be negative")
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds = f"{rest // 100}" if rest % 100 == 0 else f"{rest / 100:.2f}".rstrip("0")
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if rest or text == "PT":
        text += f"{seconds}S"
    return text


# ----------------------------------------------------------------- the models (the subset sent)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Account(_Model):
    home_page: str = Field(alias="homePage")
    name: str

    @field_validator("name")
    @classmethod
    def _opaque(cls, name: str) -> str:
        if not _PSEUDONYM.match(name):
            raise ValueError(
                "an opaque pseudonym made by new_pseudonym (lrn_...), never an address"
            )
        return name


class Agent(_Model):
    object_type: Literal["Agent"] = Field(default="Agent", alias="objectType")
    account: Account


class VerbRef(_Model):
    id: str
    display: dict[str, str]


class ActivityDefinition(_Model):
    type: str
    name: dict[str, str] | None = None


class Activity(_Model):
    object_type: Literal["Activity"] = Field(default="Activity", alias="objectType")
    id: str
    definition: ActivityDefinition | None = None


class ContextActivities(_Model):
    parent: tuple[Activity, ...] | None = None
    grouping: tuple[Activity, ...] | None = None


class Context(_Model):
    registration: uuid.UUID
    context_activities: ContextActivities | None = Field(default=None, alias="contextActivities")
    revision: str | None = None
    platform: str = PLATFORM
    language: str | None = None


class Result(_Model):
    """Only whether something was completed and how long it took: never a response (an answer),
    a score or a success, which the confidentiality contract keeps from the operator."""

    completion: bool | None = None
    duration: str | None = None


class Statement(_Model):
    id: uuid.UUID
    actor: Agent
    verb: VerbRef
    object: Activity
    result: Result | None = None
    context: Context
    timestamp: str
    version: Literal["1.0.3"] = "1.0.3"

    def to_json(self) -> dict[str, Any]:
        """The statement as sent to an LRS and kept per attempt."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Statement:
        return cls.model_validate(data)


# ---------------------------------------------------------------------------------- builders


@dataclass(frozen=True)
class Deployment:
    """Where statements come from: the deployment's public URL (ECOACH_PUBLIC_URL), the
    `homePage` of every learner's account and the root of every activity id."""

    public_url: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the deployment's public URL must be an http(s) URL")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("the deployment's public URL has no query, fragment or credentials")

    @property
    def home_page(self) -> str:
        return self.public_url.rstrip("/")

    def activity(self, *path: tuple[str, str]) -> str:
        """`<public URL>/xapi/activities/modules/<id>/lessons/<id>...`: ids, never titles."""
        parts = []
        for kind, ident in path:
            if not _ID.match(ident):
                raise ValueError(f"an activity id holds letters, digits, _ and - only: {kind}")
            parts.append(f"{kind}/{quote(ident, safe='')}")
        return f"{self.home_page}/xapi/activities/" + "/".join(parts)


@dataclass(frozen=True)
class Attempt:
    """One coachee's attempt at one version of a module: what all its statements share.
    `title` is the module's title for published modules only (None for a coach's private one)."""

    attempt_id: str
    learner: str  # the pseudonym (new_pseudonym), never an email or a person id
    module_id: str
    module_version: int
    language: str
    title: str | None = None

    def __post_init__(self) -> None:
        if not _PSEUDONYM.match(self.learner):
            raise ValueError("the learner is an opaque pseudonym, never an address")
        if not _LANGUAGE.match(self.language):
            raise ValueError("the language is a language tag such as fr or en")
        if self.module_version < 1:
            raise ValueError("module versions start at 1")


def _names(attempt: Attempt, title: str | None) -> dict[str, str] | None:
    return {attempt.language: title} if title else None


def _module(deployment: Deployment, attempt: Attempt) -> Activity:
    return Activity(
        id=deployment.activity(("modules", attempt.module_id)),
        definition=ActivityDefinition(
            type=ActivityType.MODULE.iri, name=_names(attempt, attempt.title)
        ),
    )


def _lesson_id(deployment: Deployment, attempt: Attempt, lesson_id: str) -> str:
    return deployment.activity(("modules", attempt.module_id), ("lessons", lesson_id))


def _statement(
    deployment: Deployment,
    attempt: Attempt,
    verb: Verb,
    obj: Activity,
    *,
    key: str,
    at: datetime,
    parents: tuple[Activity, ...] = (),
    result: Result | None = None,
) -> Statement:
    module = _module(deployment, attempt)
    # The module is the lesson's parent, and the grouping of what lies deeper (a prompt).
    grouping = (module,) if parents and module not in parents else None
    return Statement(
        id=statement_id_of(key),
        actor=Agent(account=Account(home_page=deployment.home_page, name=attempt.learner)),
        verb=VerbRef(id=verb.iri, display={"en-US": verb.value}),
        object=obj,
        result=result,
        context=Context(
            registration=registration_of(attempt.attempt_id),
            context_activities=(
                ContextActivities(parent=parents, grouping=grouping) if parents else None
            ),
            revision=str(attempt.module_version),
            language=attempt.language,
        ),
        timestamp=xapi_timestamp(at),
    )


def lesson_experienced(
    deployment: Deployment,
    attempt: Attempt,
    lesson_id: str,
    *,
    key: str,
    at: datetime,
    time_spent: timedelta | None = None,
    lesson_title: str | None = None,
) -> Statement:
    """The coachee viewed a lesson of the module (in this attempt)."""
    lesson = Activity(
        id=_lesson_id(deployment, attempt, lesson_id),
        definition=ActivityDefinition(
            type=ActivityType.LESSON.iri, name=_names(attempt, lesson_title)
        ),
    )
    result = Result(duration=xapi_duration(time_spent)) if time_spent is not None else None
    return _statement(
        deployment,
        attempt,
        Verb.EXPERIENCED,
        lesson,
        key=key,
        at=at,
        parents=(_module(deployment, attempt),),
        result=result,
    )


def prompt_answered(
    deployment: Deployment,
    attempt: Attempt,
    lesson_id: str,
    block_id: str,
    kind: AnswerKind,
    *,
    key: str,
    at: datetime,
) -> Statement:
    """The coachee answered a reflection prompt or a quiz of a lesson. That they answered, and
    when: never what (the answer stays in their journal or in assessment) nor a score."""
    block = Activity(
        id=deployment.activity(
            ("modules", attempt.module_id), ("lessons", lesson_id), ("blocks", block_id)
        ),
        definition=ActivityDefinition(type=_ANSWERED_TYPE[kind].iri),
    )
    lesson = Activity(id=_lesson_id(deployment, attempt, lesson_id))
    return _statement(
        deployment,
        attempt,
        Verb.ANSWERED,
        block,
        key=key,
        at=at,
        parents=(lesson,),
        result=Result(completion=True),
    )


def module_completed(
    deployment: Deployment,
    attempt: Attempt,
    *,
    key: str,
    at: datetime,
    time_spent: timedelta | None = None,
) -> Statement:
    """The coachee completed the module (every lesson of the version they started)."""
    duration = xapi_duration(time_spent) if time_spent is not None else None
    return _statement(
        deployment,
        attempt,
        Verb.COMPLETED,
        _module(deployment, attempt),
        key=key,
        at=at,
        result=Result(completion=True, duration=duration),
    )


def export_document(statements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A coachee's statements for their personal-data export: as sent to the LRS, oldest first,
    so another LRS could take them as they are."""
    ordered = sorted(
        (Statement.from_json(s).to_json() for s in statements),
        key=lambda s: (s["timestamp"], s["id"]),
    )
    return {"xapi_version": XAPI_VERSION, "statements": ordered}


@dataclass(frozen=True)
class LrsConfig:
    """The operator's LRS as content keeps it: the secret opened (never shown: `repr`), whether
    statements are pushed, and how the last push went."""

    endpoint: str
    key: str
    secret: str = field(repr=False)
    enabled: bool
    updated_at: datetime
    updated_by_person_id: str
    last_push_at: datetime | None = None
    last_error: str | None = None
