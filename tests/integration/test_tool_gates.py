"""The toolbox's gates on real PostgreSQL and RabbitMQ (ADR 0019): spaces' `spaces.tool_*`
events, signed and published as spaces' relay does, reach assessment's and content's running
handlers (the kernel's ToolCopies, with its inbox and sequence rules), and the coachee is then
refused a locked tool's target (TOOL_LOCKED) and given it once unlocked; an older sequence
arriving late changes nothing, a tool of another space gates nothing, a removed tool keeps its
target from the coachee, and a tool heard of before its target exists gates it once created."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nameko.testing.services import restrict_entrypoints

from services.assessment.handlers import assignments
from services.assessment.handlers import spaces as assessment_spaces
from services.assessment.service import AssessmentService
from services.assessment.storage.unit import AssessmentUnit
from services.content.handlers import modules, recommendations, resources
from services.content.handlers import spaces as content_spaces
from services.content.service import ContentService
from services.content.storage.unit import ContentUnit
from services.contracts import assessment as ac
from services.contracts import content as cc
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.errors import DomainError
from services.kernel.events import Envelope
from services.kernel.ids import new_id
from services.kernel.runtime.outbox import inbox_has
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from tests.support.toolbox import publish, tool_event
from tests.support.waiting import wait_for

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
TOOL_HANDLERS = [
    "on_spaces_tool_added",
    "on_spaces_tool_unlocked",
    "on_spaces_tool_locked",
    "on_spaces_tool_removed",
    "on_spaces_tool_done",
]


@pytest.fixture
def master() -> MasterKey:
    return master_key_from(settings())


def database(service: str, unit: type[Any]) -> Iterator[WorkerDatabase[Any]]:
    engine = make_engine(settings().database_url_for(service), pool_size=2)
    db = WorkerDatabase(engine, FixedClock(START), unit=unit)
    yield db
    db.close()
    engine.dispose()


@pytest.fixture
def assessment_db() -> Iterator[WorkerDatabase[AssessmentUnit]]:
    yield from database("assessment", AssessmentUnit)


@pytest.fixture
def content_db() -> Iterator[WorkerDatabase[ContentUnit]]:
    yield from database("content", ContentUnit)


def running(container_factory: Any, service_config: dict[str, Any], cls: type) -> Any:
    """The service's container with only its tool handlers: its queues bound to spaces.events."""
    container = container_factory(cls, service_config)
    restrict_entrypoints(container, *TOOL_HANDLERS)
    container.start()
    return container


def person(person_id: str, tenant_id: str, *roles: str) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", START, START + timedelta(1))


def refused(reason: str, call: Callable[..., Any], *args: Any) -> None:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert (caught.value.code, caught.value.reason) == ("FAILED_PRECONDITION", reason)


class Space:
    """A space of a new tenant, its coach and coachee, as both services' copies know it."""

    def __init__(self) -> None:
        self.tenant = new_id("tnt")
        self.id = new_id("spc")
        self.coach = person(new_id("per"), self.tenant, "coach")
        self.coachee = person(new_id("per"), self.tenant, "coachee")

    def event(self) -> sc.SpaceActivated:
        return sc.SpaceActivated(
            space_id=self.id,
            tenant_id=self.tenant,
            status=sc.SpaceStatus.ACTIVE,
            coachee_person_id=self.coachee.person_id,
            coach_person_id=self.coach.person_id,
            co_coach_person_id=None,
            cadence="weekly",
            sessions_planned=10,
            starts_on=START.date(),
            updated_at=START,
        )


class Toolbox:
    """Publishes one tool's events, each with the sequence given, and waits until the service's
    handler has taken each (its inbox row: applied, or seen and left as older)."""

    def __init__(
        self,
        amqp_uri: str,
        db: WorkerDatabase[Any],
        service: str,
        space: Space,
        kind: str,
        target_id: str,
    ) -> None:
        self.amqp_uri, self.db, self.service, self.space = amqp_uri, db, service, space
        self.kind, self.target_id = kind, target_id
        self.tool_id = new_id("tol")

    def send(
        self, model: type[sc.ToolEvent], state: str, sequence: int, *, space_id: str = ""
    ) -> Envelope:
        _, envelope = tool_event(
            model,
            tool_id=self.tool_id,
            space_id=space_id or self.space.id,
            tenant_id=self.space.tenant,
            kind=self.kind,
            target_id=self.target_id,
            state=state,
            sequence=sequence,
        )
        config = settings()
        publish(self.amqp_uri, envelope, config.keys_path)
        handler = f"{self.service}.on_{model.TYPE.replace('.', '_')}"

        def taken() -> bool:
            with self.db.read_only() as uow:
                return inbox_has(uow.connection, handler, envelope.id)

        wait_for(taken, 15, f"{handler} to take {envelope.id}")
        return envelope


@pytest.fixture
def amqp_uri(service_config: dict[str, Any]) -> str:
    return str(service_config["AMQP_URI"])


def test_assessment_refuses_a_locked_tool_s_assignment_to_the_coachee(
    container_factory: Any,
    service_config: dict[str, Any],
    amqp_uri: str,
    assessment_db: WorkerDatabase[AssessmentUnit],
    master: MasterKey,
) -> None:
    running(container_factory, service_config, AssessmentService)
    space = Space()
    with assessment_db.unit_of_work() as uow:
        assessment_spaces.record_space(uow, space.event())

    def assign() -> str:
        request = ac.AssignInstrumentRequest(space_id=space.id, instrument_id="wheel-of-life")
        return assignments.assign_instrument(
            assessment_db, master, space.coach, request
        ).assignment_id

    def read(who: PersonClaims, assignment_id: str) -> str:
        ref = ac.AssignmentRef(assignment_id=assignment_id)
        return assignments.get_assignment(assessment_db, master, who, ref).assignment_id

    def listed(who: PersonClaims) -> set[str]:
        request = ac.ListAssignmentsRequest(space_id=space.id)
        found = assignments.list_assignments(assessment_db, master, who, request).assignments
        return {a.assignment_id for a in found}

    target = assign()
    tool = Toolbox(amqp_uri, assessment_db, "assessment", space, "assessment", target)
    tool.send(sc.ToolAdded, "locked", 1)
    refused("TOOL_LOCKED", read, space.coachee, target)
    answers = ac.AnswersRequest(assignment_id=target, answers={"health": 7})
    refused("TOOL_LOCKED", assignments.save_draft, assessment_db, master, space.coachee, answers)
    assert listed(space.coachee) == set()
    assert read(space.coach, target) == target and listed(space.coach) == {target}

    tool.send(sc.ToolUnlocked, "unlocked", 3)
    assert read(space.coachee, target) == target
    tool.send(sc.ToolLocked, "locked", 2)  # older than the unlock: ignored
    assert read(space.coachee, target) == target and listed(space.coachee) == {target}

    tool.send(sc.ToolLocked, "locked", 4)
    refused("TOOL_LOCKED", read, space.coachee, target)
    tool.send(sc.ToolRemoved, "removed", 5)  # taken out of the space: stays closed
    refused("TOOL_LOCKED", read, space.coachee, target)
    assert read(space.coach, target) == target
    again = Toolbox(amqp_uri, assessment_db, "assessment", space, "assessment", target)
    again.send(sc.ToolAdded, "unlocked", 1)  # the coach adds it again, unlocked: reopened
    assert read(space.coachee, target) == target

    # Another space's coach naming this assignment in their toolbox gates nothing.
    other = Toolbox(amqp_uri, assessment_db, "assessment", space, "assessment", target)
    other.send(sc.ToolAdded, "locked", 1, space_id=new_id("spc"))
    assert read(space.coachee, target) == target


def test_content_refuses_a_locked_module_and_recommendation_to_the_coachee(
    container_factory: Any,
    service_config: dict[str, Any],
    amqp_uri: str,
    content_db: WorkerDatabase[ContentUnit],
    master: MasterKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running(container_factory, service_config, ContentService)
    space = Space()
    with content_db.unit_of_work() as uow:
        content_spaces.record_space(uow, space.event())

    made = modules.assign_module(
        content_db, space.coach, cc.AssignModuleRequest(space_id=space.id, slug="giving-feedback")
    )
    module = Toolbox(amqp_uri, content_db, "content", space, "module", made.assignment_id)
    module.send(sc.ToolAdded, "locked", 1)
    open_ = cc.LessonRequest(assignment_id=made.assignment_id)
    refused("TOOL_LOCKED", modules.open_lesson, content_db, space.coachee, open_)
    listing = cc.ListModuleAssignmentsRequest(space_id=space.id)
    assert modules.list_module_assignments(content_db, space.coachee, listing).assignments == []
    [seen] = modules.list_module_assignments(content_db, space.coach, listing).assignments
    assert seen.assignment_id == made.assignment_id
    module.send(sc.ToolUnlocked, "unlocked", 2)
    assert modules.open_lesson(content_db, space.coachee, open_).status == "started"

    # A recommendation whose tool spaces announced before content stored it (the copy is by
    # target id, whatever exists yet): gated from its first read.
    rid = new_id("rec")
    tool = Toolbox(amqp_uri, content_db, "content", space, "resource", rid)
    tool.send(sc.ToolAdded, "locked", 2)
    monkeypatch.setattr(recommendations, "new_id", lambda prefix: rid)
    resource = resources.create_resource(
        content_db,
        space.coach,
        cc.CreateResourceRequest.model_validate(
            {
                "scope": "private",
                "kind": "article",
                "title": "A read",
                "url": "https://example.org/" + new_id("x"),
                "language": "en",
            }
        ),
    )
    recommended = recommendations.recommend_resource(
        content_db,
        master,
        space.coach,
        cc.RecommendRequest(space_id=space.id, resource_id=resource.resource_id),
    )
    assert recommended.recommendation_id == rid
    tool.send(sc.ToolUnlocked, "unlocked", 1)  # older: ignored
    mark = cc.MarkRecommendationRequest(recommendation_id=rid, read=True)
    refused(
        "TOOL_LOCKED", recommendations.mark_recommendation, content_db, master, space.coachee, mark
    )
    shown = cc.ListRecommendationsRequest(space_id=space.id)

    def listed(who: PersonClaims) -> list[str]:
        found = recommendations.list_recommendations(content_db, master, who, shown)
        return [r.recommendation_id for r in found.recommendations]

    assert (listed(space.coachee), listed(space.coach)) == ([], [rid])
    tool.send(sc.ToolUnlocked, "unlocked", 3)
    marked = recommendations.mark_recommendation(content_db, master, space.coachee, mark)
    assert marked.status == "read"
    tool.send(sc.ToolRemoved, "removed", 4)  # taken out of the space: closed again
    refused(
        "TOOL_LOCKED", recommendations.mark_recommendation, content_db, master, space.coachee, mark
    )
    assert (listed(space.coachee), listed(space.coach)) == ([], [rid])
