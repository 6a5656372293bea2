"""The space's toolbox through the gateway (issue 24, ADR 0018), with two spaces instances
sweeping at once and a real SMTP server: a module unlocked once session 2 is held (and not
relocked when attendance is corrected), a date tool unlocked by the sweep once with one neutral
mail, what the coachee sees of locked tools, who is refused, and a resource the coach locks
again refused by content itself."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc, content_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support import scheduling as sch
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error
from tests.support.deployments import extra_instances
from tests.support.people import sign_in_operator
from tests.support.smtp import SmtpServer, body
from tests.support.waiting import wait_for

api = world_fixtures.api
s = world_fixtures.s

SUBJECTS = ("ecoach: something new in your space", "ecoach : du nouveau dans votre espace")


@pytest.fixture(scope="module")
def world(shared_world: Deployment) -> Iterator[Deployment]:
    """The shared "sweeping" deployment (each sweep logged: see swept_again), with a second
    spaces and a second scheduling instance for the module."""
    with extra_instances(shared_world, **{"spaces-2": "spaces", "scheduling-2": "scheduling"}):
        yield shared_world


def toolbox(api: Api) -> spaces_pb2_grpc.ToolboxServiceStub:
    return spaces_pb2_grpc.ToolboxServiceStub(api.channel)


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def unlock_mails(smtp: SmtpServer, address: str) -> list[str]:
    return [body(m) for m in smtp.inbox.to(address) if str(m["Subject"]) in SUBJECTS]


def first_unlock_mail(smtp: SmtpServer, address: str) -> str:
    wait_for(lambda: unlock_mails(smtp, address), 20, f"an unlock mail to {address}")
    return unlock_mails(smtp, address)[0]


def swept_again(world: Deployment) -> None:
    """Both spaces instances swept twice more: a mail not sent by now is not owed."""

    def sweeps() -> dict[str, int]:
        return {
            name: world.logs[name].read_text().count('"toolbox sweep done"')
            for name in ("spaces", "spaces-2")
        }

    before = sweeps()
    wait_for(
        lambda: all(n >= before[name] + 2 for name, n in sweeps().items()),
        30,
        "both spaces instances to sweep again",
    )


def listed(api: Api, space: str, who: Session) -> spb.ListToolsResponse:
    return toolbox(api).ListTools(spb.ListToolsRequest(parent=space), metadata=who.metadata)


def module_id() -> str:
    return "mas_" + secrets.token_hex(8)


def test_a_module_opens_once_session_two_is_held_and_a_correction_keeps_it_open(
    world: Deployment, api: Api, s: sch.Stubs, smtp: SmtpServer
) -> None:
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    coachee_email, coach_email = email_of(api, team.coachee), email_of(api, team.coach)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    tools = toolbox(api)

    target = module_id()
    module = tools.AddTool(
        spb.AddToolRequest(
            parent=space.name,
            tool=spb.Tool(
                kind=spb.TOOL_MODULE,
                target_id=target,
                label="Managing stress",
                rule=spb.ToolRule(after_sessions_held=2),
            ),
        ),
        metadata=team.coach.metadata,
    )
    assert (module.state, module.position, module.rule.after_sessions_held) == (
        spb.TOOL_LOCKED,
        0,
        2,
    )

    # The coachee sees it locked, why, and neither its target nor its rule.
    [seen] = listed(api, space.name, team.coachee).tools
    assert (seen.label, seen.target_id, seen.HasField("rule")) == ("Managing stress", "", False)
    assert [(r.kind, r.sessions_held) for r in seen.locked_reasons] == [
        (spb.LOCK_REASON_AFTER_SESSIONS_HELD, 2)
    ]

    # Refused callers and bad input.
    for who, code in (
        (team.admin, grpc.StatusCode.NOT_FOUND),  # HR sees nothing of the toolbox
        (operator, grpc.StatusCode.NOT_FOUND),
    ):
        refused = expect_error(
            tools.ListTools, spb.ListToolsRequest(parent=space.name), metadata=who.metadata
        )
        assert refused.code == code
    by_coachee = expect_error(
        tools.UnlockTool, spb.UnlockToolRequest(name=module.name), metadata=team.coachee.metadata
    )
    assert (by_coachee.code, by_coachee.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "TOOLBOX_COACH_ONLY",
    )
    for tool, field in (
        (spb.Tool(kind=spb.TOOL_VIDEO_ROOM, label="bad\x00label"), "label"),
        (spb.Tool(kind=spb.TOOL_VIDEO_ROOM, label="x" * 201), "label"),
        (
            spb.Tool(
                kind=spb.TOOL_VIDEO_ROOM, label="x", rule=spb.ToolRule(after_sessions_held=201)
            ),
            "rule.after_sessions_held",
        ),
        (
            spb.Tool(kind=spb.TOOL_VIDEO_ROOM, label="x", rule=spb.ToolRule(on_date="2027-02-30")),
            "rule.on_date",
        ),
        (spb.Tool(label="x"), "tool.kind"),
        (spb.Tool(kind=spb.TOOL_MODULE, label="x"), "target_id"),
    ):
        bad = expect_error(
            tools.AddTool,
            spb.AddToolRequest(parent=space.name, tool=tool),
            metadata=team.coach.metadata,
        )
        assert (bad.code, bad.fields) == (grpc.StatusCode.INVALID_ARGUMENT, (field,)), field

    # Two sessions, an hour from now; the clock moved past them, the coach marks them held.
    first = sch.book(s, space.name, team.coachee, sch.hour_from_now(0), minutes=60)
    second = sch.book(s, space.name, team.coachee, sch.hour_from_now(2), minutes=60)
    offset = (sch.dt(second.end_time) - datetime.now(UTC)).total_seconds() + 600
    with sch.later(world, offset):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)

        def mark(session: pb.Session, attendance: int) -> None:
            s.sessions.MarkAttendance(
                pb.MarkAttendanceRequest(name=session.name, attendance=attendance),
                metadata=coach.metadata,
            )

        def held(n: int) -> spb.ListToolsResponse:
            found: list[spb.ListToolsResponse] = []

            def counted() -> bool:
                found[:] = [listed(api, space.name, coachee)]
                return found[0].sessions_held == n

            wait_for(counted, 20, f"spaces to count {n} sessions held")
            return found[0]

        mark(first, pb.ATTENDANCE_HELD)
        assert held(1).tools[0].state == spb.TOOL_LOCKED
        mark(second, pb.ATTENDANCE_HELD)
        [opened] = held(2).tools
        assert (opened.state, opened.target_id, list(opened.locked_reasons)) == (
            spb.TOOL_UNLOCKED,
            target,
            [],
        )
        mail = first_unlock_mail(smtp, coachee_email)
        assert "Managing stress" not in mail and "module" not in mail.lower()
        assert space.space_id in mail

        # Attendance corrected: the count goes down, the module stays open (ADR 0018).
        mark(second, pb.ATTENDANCE_NO_SHOW_COACHEE)
        assert held(1).tools[0].state == spb.TOOL_UNLOCKED
        swept_again(world)
        assert len(unlock_mails(smtp, coachee_email)) == 1

        # The coach locks it again: locked until they unlock it, whatever the sessions.
        locked = tools.LockTool(spb.LockToolRequest(name=module.name), metadata=coach.metadata)
        assert locked.state == spb.TOOL_LOCKED
        [again] = listed(api, space.name, coachee).tools
        assert [r.kind for r in again.locked_reasons] == [spb.LOCK_REASON_LOCKED_BY_COACH]
        assert again.target_id == ""
        mark(second, pb.ATTENDANCE_HELD)
        held(2)
        assert listed(api, space.name, coachee).tools[0].state == spb.TOOL_LOCKED

        # A note template, moved first, renamed; removed.
        template = tools.AddTool(
            spb.AddToolRequest(
                parent=space.name,
                tool=spb.Tool(
                    kind=spb.TOOL_NOTE_TEMPLATE,
                    label="Before our next session",
                    template="What went well?",
                    rule=spb.ToolRule(by_hand=True),
                ),
            ),
            metadata=coach.metadata,
        )
        moved = tools.MoveTool(
            spb.MoveToolRequest(name=template.name, position=0), metadata=coach.metadata
        )
        assert [t.tool_id for t in moved.tools] == [template.tool_id, module.tool_id]
        renamed = tools.UpdateTool(
            spb.UpdateToolRequest(
                tool=spb.Tool(name=template.name, label="Next time"),
                update_mask=FieldMask(paths=["label"]),
            ),
            metadata=coach.metadata,
        )
        assert (renamed.label, renamed.template) == ("Next time", "What went well?")
        [hidden, _] = listed(api, space.name, coachee).tools
        assert (hidden.label, hidden.template) == ("Next time", "")
        assert [r.kind for r in hidden.locked_reasons] == [spb.LOCK_REASON_BY_HAND]
        tools.RemoveTool(spb.RemoveToolRequest(name=template.name), metadata=coach.metadata)
        assert [t.tool_id for t in listed(api, space.name, coach).tools] == [module.tool_id]


def test_a_date_tool_unlocks_once_with_one_mail_while_two_instances_sweep(
    world: Deployment, api: Api, s: sch.Stubs, smtp: SmtpServer
) -> None:
    """An assessment on a date, with two spaces and two scheduling instances running: unlocked
    once, one mail, and assessment refuses it to the coachee until then."""
    assert all(world.procs[p].poll() is None for p in ("spaces-2", "scheduling-2"))
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    coachee_email, coach_email = email_of(api, team.coachee), email_of(api, team.coach)
    zone = "Pacific/Auckland"
    sch.set_time_zone(api, team.coachee, zone)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    assessment = assessment_pb2_grpc.AssessmentServiceStub(api.channel)

    def assign() -> apb.Assignment | None:  # once assessment knows the space is active
        try:
            return assessment.AssignInstrument(
                apb.AssignInstrumentRequest(parent=space.name, instrument_id="wheel-of-life"),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    assignment = wait_for(assign, 20, "assessment's copy of the space").assignment_id
    tomorrow = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    tool = toolbox(api).AddTool(
        spb.AddToolRequest(
            parent=space.name,
            tool=spb.Tool(
                kind=spb.TOOL_ASSESSMENT,
                target_id=assignment,
                label="Our wheel of life",
                rule=spb.ToolRule(on_date=tomorrow.isoformat()),
            ),
        ),
        metadata=team.coach.metadata,
    )
    read = apb.GetAssignmentRequest(assignment_id=assignment)

    def refused_by_assessment(who: Session) -> bool:
        try:
            assessment.GetAssignment(read, metadata=who.metadata)
        except grpc.RpcError as exc:
            return exc.code() == grpc.StatusCode.FAILED_PRECONDITION
        return False

    wait_for(lambda: refused_by_assessment(team.coachee), 20, "assessment to hear of the tool")
    [seen] = listed(api, space.name, team.coachee).tools
    assert [(r.kind, r.on_date) for r in seen.locked_reasons] == [
        (spb.LOCK_REASON_ON_DATE, tomorrow.isoformat())
    ]
    swept_again(world)
    assert listed(api, space.name, team.coachee).tools[0].state == spb.TOOL_LOCKED

    midnight = datetime.combine(tomorrow, time(0), tzinfo=ZoneInfo(zone))
    with sch.later(world, (midnight - datetime.now(UTC)).total_seconds() + 2):
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        wait_for(
            lambda: listed(api, space.name, coachee).tools[0].state == spb.TOOL_UNLOCKED,
            20,
            "the sweep to unlock the date tool",
        )
        wait_for(lambda: not refused_by_assessment(coachee), 20, "assessment to hear of the unlock")
        mail = first_unlock_mail(smtp, coachee_email)
        assert space.space_id in mail and "wheel" not in mail.lower()
        swept_again(world)
        assert len(unlock_mails(smtp, coachee_email)) == 1
        assert unlock_mails(smtp, coach_email) == []
        unlocked = listed(api, space.name, coachee).tools[0]
        assert unlocked.tool_id == tool.tool_id and unlocked.HasField("unlock_time")


def test_a_resource_locked_again_by_the_coach_is_refused_by_content(
    world: Deployment, api: Api, s: sch.Stubs
) -> None:
    """Spaces publishes, content copies (ADR 0019): the coach's lock reaches content, which then
    refuses the recommendation to the coachee (TOOL_LOCKED) and leaves it out of their list; the
    coach still sees it; unlocked again, the coachee marks it read and the tool is done."""
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    content = content_pb2_grpc.ContentServiceStub(api.channel)
    resource = content.CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.PRIVATE,
            kind=cpb.ARTICLE,
            title="Saying no without guilt",
            url="https://example.org/saying-no",
            language="en",
        ),
        metadata=team.coach.metadata,
    )

    def recommend() -> cpb.Recommendation | None:  # once content knows the space is active
        try:
            return content.RecommendResource(
                cpb.RecommendResourceRequest(parent=space.name, resource_id=resource.resource_id),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    recommendation = wait_for(recommend, 20, "content's copy of the space")
    tool = toolbox(api).AddTool(
        spb.AddToolRequest(
            parent=space.name,
            tool=spb.Tool(
                kind=spb.TOOL_RESOURCE,
                target_id=recommendation.recommendation_id,
                label="Read before our next session",
            ),
        ),
        metadata=team.coach.metadata,
    )
    assert tool.state == spb.TOOL_UNLOCKED  # no rule: open at once

    def shown(who: Session) -> list[str]:
        found = content.ListRecommendations(
            cpb.ListRecommendationsRequest(parent=space.name), metadata=who.metadata
        )
        return [r.recommendation_id for r in found.recommendations]

    mark = cpb.MarkRecommendationRequest(
        recommendation_id=recommendation.recommendation_id, read=True
    )

    def refused_to_the_coachee() -> bool:
        try:
            content.MarkRecommendation(mark, metadata=team.coachee.metadata)
        except grpc.RpcError as exc:
            return exc.code() == grpc.StatusCode.FAILED_PRECONDITION
        return False

    toolbox(api).LockTool(spb.LockToolRequest(name=tool.name), metadata=team.coach.metadata)
    wait_for(refused_to_the_coachee, 20, "content to hear of the lock")
    refused = expect_error(content.MarkRecommendation, mark, metadata=team.coachee.metadata)
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TOOL_LOCKED")
    assert refused.localized  # a sentence for the coachee, in their language
    assert shown(team.coachee) == []
    assert shown(team.coach) == [recommendation.recommendation_id]

    toolbox(api).UnlockTool(spb.UnlockToolRequest(name=tool.name), metadata=team.coach.metadata)
    wait_for(lambda: shown(team.coachee), 20, "content to hear of the unlock")
    marked = content.MarkRecommendation(mark, metadata=team.coachee.metadata)
    assert marked.status == cpb.READ
    wait_for(
        lambda: listed(api, space.name, team.coachee).tools[0].done,
        20,
        "spaces to hear the recommendation was read",
    )
