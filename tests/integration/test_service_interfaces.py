"""Each service's interface over the broker, with its collaborators replaced (the nameko-examples
pattern: `replace_dependencies`): the real container, entrypoints, validation, error mapping and
JSON on RabbitMQ, in front of the in-memory fakes of tests/unit/fakes instead of PostgreSQL, and
a fake identity. What is checked here is the edge a caller meets: a request is answered in its
method's response contract (services/contracts/<service>.py), a bad field is INVALID_ARGUMENT
naming it and changes nothing, a domain refusal crosses the wire with its reason, and a
collaborator that is down is UNAVAILABLE with nothing kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import replace_dependencies, restrict_entrypoints
from pydantic import BaseModel

from services.assessment.service import AssessmentService
from services.contracts import assessment as ac
from services.contracts import identity as ic
from services.contracts import scheduling as schc
from services.contracts import spaces as sc
from services.contracts.base import Api, Method
from services.kernel.caller import Caller, PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.errors import DomainError, InvalidArgument, NotFound, Unavailable
from services.kernel.runtime.errors_wire import register_domain_errors
from services.kernel.space_copy import SpaceCopy as AssessmentSpaceCopy
from services.scheduling.domain.availability import Availability
from services.scheduling.domain.model import SpaceCopy
from services.scheduling.service import SchedulingService
from services.spaces.service import SpacesService
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.assessment import assessment_database
from tests.unit.fakes.scheduling import SchedulingState, scheduling_db
from tests.unit.fakes.spaces import spaces_db

register_domain_errors()

NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # a Monday
TENANT = "ten_1"
# member id -> (person id, roles)
MEMBERS = {
    "mem_c0ac4ee": ("per_coachee", ["coachee"]),
    "mem_c0ac4": ("per_coach", ["coach"]),
}


def person(person_id: str, *roles: str) -> PersonClaims:
    return PersonClaims(
        person_id, TENANT, roles or ("member",), False, "tok", NOW, NOW + timedelta(1)
    )


ADMIN = person("per_admin", "tenant_admin")
COACH, COACHEE = person("per_coach", "coach"), person("per_coachee", "coachee")


class FakeAuth:
    """Stands for the kernel's Authentication: every worker's caller is `caller`."""

    request_id = None
    traceparent = None
    deadline = None
    locale = "en"
    client_address = ""
    delivery = None  # no call of its own: no RPC receipt (services/kernel/runtime/receipts.py)
    redelivered = False

    def __init__(self) -> None:
        self.caller: Caller = ADMIN

    def resolve(self, meta: Any) -> Caller:
        return self.caller


class FakeIdentity:
    """Stands for `ServiceRpc("identity")`: answers from MEMBERS, in identity's contracts."""

    def __init__(self) -> None:
        self.down = False

    def call(
        self, method: Method[Any, Any], request: BaseModel, *, as_service: bool = False
    ) -> Any:
        assert as_service, "a nested call to identity speaks as the service"
        if self.down:
            raise Unavailable("identity is not running.", reason="SERVICE_UNAVAILABLE")
        if method is ic.IdentityApi.resolve_members:
            assert isinstance(request, ic.ResolveMembersRequest)
            found = [
                ic.ResolvedMember(member_id=m, person_id=p, roles=r, status="active")
                for m, (p, r) in MEMBERS.items()
                if m in request.member_ids and request.tenant_id == TENANT
            ]
            return ic.ResolveMembersResponse(members=found)
        if method is ic.IdentityApi.contact_details:
            return ic.ContactDetailsResponse(people=[])
        raise AssertionError(f"unexpected {method!r}")


class Interface:
    """One running service with fakes behind it, called over RabbitMQ."""

    def __init__(self, api: type[Api], config: dict[str, Any], db: FakeDatabase[Any]) -> None:
        self.api, self.db = api, db
        self.auth, self.identity = FakeAuth(), FakeIdentity()
        self._proxy = ServiceRpcProxy(api.service, config, timeout=20)
        self._service = self._proxy.start()

    def call(self, method: str, payload: dict[str, Any], as_: Caller = ADMIN) -> Any:
        """The method's reply read as its response contract, as every caller reads it."""
        self.auth.caller = as_
        reply = getattr(self._service, method)(payload)
        return self.api.methods()[method].reply(reply)

    def refused(self, method: str, payload: dict[str, Any], as_: Caller = ADMIN) -> DomainError:
        with pytest.raises(DomainError) as caught:
            self.call(method, payload, as_)
        return caught.value

    def stop(self) -> None:
        self._proxy.stop()


def start(
    container_factory: Any,
    config: dict[str, Any],
    cls: type,
    api: type[Api],
    db: FakeDatabase[Any],
    **others: Any,
) -> Iterator[Interface]:
    container = container_factory(cls, config)
    restrict_entrypoints(container, *api.methods())  # no timers, no event handlers
    interface = Interface(api, config, db)
    replace_dependencies(
        container, db=db, auth=interface.auth, identity=interface.identity, **others
    )
    container.start()
    yield interface
    interface.stop()


# ---------------------------------------------------------------- spaces


@pytest.fixture
def spaces(container_factory: Any, service_config: dict[str, Any]) -> Iterator[Interface]:
    db = spaces_db(FixedClock(NOW))
    yield from start(
        container_factory, service_config, SpacesService, sc.SpacesApi, db, relay=None, master=None
    )


def set_up(**changes: Any) -> dict[str, Any]:
    return {
        "coachee_member_id": "mem_c0ac4ee",
        "coach_member_id": "mem_c0ac4",
        "cadence": "weekly",
        "sessions_planned": 6,
        "starts_on": "2026-10-06",
        **changes,
    }


def test_spaces_answers_in_its_contract_and_keeps_the_space_and_its_event(
    spaces: Interface,
) -> None:
    space = spaces.call("create_space", {"tenant_id": TENANT, "set_up": set_up()})
    assert isinstance(space, sc.Space) and space.status == "draft"
    assert space.set_up.coach.person_id == "per_coach"
    assert list(spaces.db.state.spaces) == [space.space_id]
    assert [type(e) for e in spaces.db.events] == [sc.SpaceCreated]
    read = spaces.call("get_space", {"tenant_id": TENANT, "space_id": space.space_id}, COACH)
    assert read.space_id == space.space_id


def test_spaces_names_every_bad_field_and_keeps_nothing(spaces: Interface) -> None:
    bad = set_up(cadence="yearly", sessions_planned=-1)
    refusal = spaces.refused("create_space", {"tenant_id": TENANT, "set_up": bad, "x": 1})
    assert isinstance(refusal, InvalidArgument)
    assert {f.field for f in refusal.fields} == {"set_up.cadence", "set_up.sessions_planned", "x"}
    assert not spaces.db.state.spaces and not spaces.db.events


def test_spaces_refusals_cross_the_wire_with_their_reason(spaces: Interface) -> None:
    space = spaces.call("create_space", {"tenant_id": TENANT, "set_up": set_up()})
    stranger = person("per_stranger", "coach")
    refusal = spaces.refused(
        "get_space", {"tenant_id": TENANT, "space_id": space.space_id}, stranger
    )
    assert isinstance(refusal, NotFound) and refusal.reason == "SPACE_NOT_FOUND"


def test_spaces_keeps_nothing_when_identity_is_down(spaces: Interface) -> None:
    spaces.identity.down = True
    refusal = spaces.refused("create_space", {"tenant_id": TENANT, "set_up": set_up()})
    assert isinstance(refusal, Unavailable)
    assert not spaces.db.state.spaces and not spaces.db.events


# ---------------------------------------------------------------- scheduling

SPACE = "spa_1"


def scheduling_state(db: FakeDatabase[SchedulingState]) -> None:
    db.state.spaces[SPACE] = SpaceCopy(
        space_id=SPACE,
        tenant_id=TENANT,
        status="active",
        coachee_person_id=COACHEE.person_id,
        coach_person_id=COACH.person_id,
        co_coach_person_id=None,
        cadence="weekly",
        sessions_planned=5,
        updated_at=NOW,
    )
    hours = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(1, 8)]
    db.state.availability[COACH.person_id] = Availability.from_input(
        COACH.person_id, {"time_zone": "UTC", "weekly": hours, "min_notice_minutes": 0}, NOW
    )


@pytest.fixture
def scheduling(container_factory: Any, service_config: dict[str, Any]) -> Iterator[Interface]:
    db = scheduling_db(FixedClock(NOW))
    scheduling_state(db)
    yield from start(
        container_factory,
        service_config,
        SchedulingService,
        schc.SchedulingApi,
        db,
        relay=None,
        master=None,
        mailer=None,
    )


def booking(days: int, hour: int = 10) -> dict[str, Any]:
    at = (NOW + timedelta(days=days)).replace(hour=hour)
    return {"tenant_id": TENANT, "space_id": SPACE, "starts_at": at.isoformat()}


def test_scheduling_books_in_its_contract_and_keeps_the_session_and_its_event(
    scheduling: Interface,
) -> None:
    booked = scheduling.call("book_session", booking(1), COACHEE)
    assert isinstance(booked, schc.Session) and booked.starts_at == NOW.replace(day=6, hour=10)
    assert [type(e) for e in scheduling.db.events] == [schc.SessionBooked]
    listed = scheduling.call("list_space_sessions", {"tenant_id": TENANT, "space_id": SPACE}, COACH)
    assert [s.session_id for s in listed.sessions] == [booked.session_id]


def test_scheduling_names_every_bad_field_and_keeps_nothing(scheduling: Interface) -> None:
    bad = {"tenant_id": TENANT, "space_id": "not an id", "starts_at": "tomorrow"}
    refusal = scheduling.refused("book_session", bad, COACHEE)
    assert isinstance(refusal, InvalidArgument)
    assert {f.field for f in refusal.fields} == {"space_id", "starts_at"}
    assert not scheduling.db.events


def test_scheduling_refusals_cross_the_wire_with_their_reason(scheduling: Interface) -> None:
    scheduling.call("book_session", booking(1), COACHEE)
    refusal = scheduling.refused("book_session", booking(1), COACHEE)  # the same hour again
    assert refusal.reason == "SLOT_TAKEN" and refusal.code.name == "FAILED_PRECONDITION"
    assert len(scheduling.db.events) == 1


# ---------------------------------------------------------------- assessment

WHEEL = {
    "health": 7,
    "work": 5,
    "money": 6,
    "relationships": 8,
    "family": 9,
    "friends": 4,
    "growth": 6,
    "leisure": 3,
}


@pytest.fixture
def assessment(container_factory: Any, service_config: dict[str, Any]) -> Iterator[Interface]:
    db = assessment_database(FixedClock(NOW))
    db.state.spaces[SPACE] = AssessmentSpaceCopy(
        SPACE, TENANT, "active", COACHEE.person_id, COACH.person_id, None, NOW
    )
    container = container_factory(AssessmentService, service_config)
    restrict_entrypoints(container, *ac.AssessmentApi.methods())  # no event handlers
    interface = Interface(ac.AssessmentApi, service_config, db)
    replace_dependencies(container, db=db, auth=interface.auth, relay=None, master=None)
    container.start()
    yield interface
    interface.stop()


def test_assessment_answers_in_its_contract_and_keeps_the_attempt_and_its_events(
    assessment: Interface,
) -> None:
    assigned = assessment.call(
        "assign_instrument", {"space_id": SPACE, "instrument_id": "wheel-of-life"}, COACH
    )
    assert isinstance(assigned, ac.Assignment) and assigned.status == "assigned"
    ref = assigned.assignment_id
    submitted = assessment.call("submit_attempt", {"assignment_id": ref, "answers": WHEEL}, COACHEE)
    assert isinstance(submitted, ac.Attempt) and submitted.answers == WHEEL
    assert {r.dimension for r in submitted.results} >= set(WHEEL)
    assert [type(e) for e in assessment.db.events] == [ac.AssignmentCreated, ac.AttemptSubmitted]
    # The assignment lists its attempts as summaries: score values, with the texts once.
    seen = assessment.call("get_assignment", {"assignment_id": ref}, COACHEE)
    assert isinstance(seen, ac.Assignment) and [a.number for a in seen.attempts] == [1]
    values = {s["dimension"]: s for s in seen.attempts[0].scores}
    assert {d.dimension for d in seen.dimensions} == set(values) >= set(WHEEL)
    for r in submitted.results:
        bands = next(d for d in seen.dimensions if d.dimension == r.dimension).bands
        assert bands[values[r.dimension]["band"]].label == r.band


def test_assessment_names_every_bad_field_and_refuses_across_the_wire(
    assessment: Interface,
) -> None:
    bad = {"space_id": "not an id", "instrument_id": "Not A Slug!", "version": -1}
    refusal = assessment.refused("assign_instrument", bad, COACH)
    assert isinstance(refusal, InvalidArgument)
    assert {f.field for f in refusal.fields} == {"space_id", "instrument_id", "version"}
    hidden = assessment.refused("get_assignment", {"assignment_id": "asg_00"}, COACH)
    assert isinstance(hidden, NotFound) and hidden.reason == "ASSIGNMENT_NOT_FOUND"
    assert not assessment.db.events
