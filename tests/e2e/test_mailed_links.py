"""Every mailed link lands on a page of the web app (issue 20, item 5): a shared deployment
mails a real SMTP server every kind of mail the platform sends, and each link in them, opened
as a person would (not signed in), answers 200 or sends them to sign in; never 404.

The session mails open the person's own place: the coachee's space page, the coach's desk; the
coach-change mails the coachee's page, without naming the space."""

from __future__ import annotations

import http.client
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support import scheduling as sch
from tests.support import world_fixtures
from tests.support.api import Api, Session, unique_email
from tests.support.people import sign_in_operator
from tests.support.smtp import SmtpServer, body, use_calendar_address
from tests.support.spaces import add_person

api = world_fixtures.api
s = world_fixtures.s


# The shared "sweeping" deployment: reminders swept every half second.
world = world_fixtures.shared


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def links_in(world: Deployment, text: str) -> list[str]:
    return re.findall(rf"{re.escape(f'http://{world.web_address}')}/\S*", text)


def opened(world: Deployment, link: str) -> tuple[int, str]:
    """The status and the redirect's path of GET `link`, redirects not followed."""
    parts = urlsplit(link)
    host, port = world.web_address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        answer = connection.getresponse()
        return answer.status, urlsplit(answer.getheader("Location") or "").path
    finally:
        connection.close()


def test_every_mailed_link_opens_a_page(
    world: Deployment, api: Api, s: sch.Stubs, smtp: SmtpServer
) -> None:
    inbox = smtp.inbox
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    coach, coachee, admin = (email_of(api, w) for w in (team.coach, team.coachee, team.admin))
    # make_tenant's people accept their invitations at once (set_password), often before the
    # relay has mailed them: a pending invitation of its own is mailed whatever the timing.
    invited = unique_email("invited")
    api.members.AddMember(
        ipb.AddMemberRequest(
            parent=f"tenants/{team.tenant_id}", email=invited, roles=[ipb.COACHEE]
        ),
        metadata=team.admin.metadata,
    )
    inbox.wait_for(invited, containing="/invite/")

    api.auth.RequestPasswordReset(ipb.RequestPasswordResetRequest(email=coachee), timeout=10)
    inbox.wait_for(coachee, containing="/reset-password/")
    moved_to = unique_email("moved")
    api.auth.RequestEmailChange(
        ipb.RequestEmailChangeRequest(new_email=moved_to, current_password=PASSWORD),
        metadata=team.admin.metadata,
    )
    inbox.wait_for(moved_to, containing="/confirm-email/")
    inbox.wait_for(admin)  # the notice to the old address
    calendar = unique_email("coach-calendar")
    use_calendar_address(api, smtp, team.coach, calendar, PASSWORD)  # /confirm-calendar-email/

    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    space_page = f"/spaces/{space.space_id}"
    start = sch.hour_from_now(30)  # moving it is a request under the default policy
    booked = sch.book(s, space.name, team.coachee, start, minutes=60)
    inbox.wait_for(coachee, containing=space_page)  # the calendar invitation
    inbox.wait_for(calendar, containing="/desk")
    asked = s.sessions.RescheduleSession(
        pb.RescheduleSessionRequest(
            name=booked.name, start_time=sch.ts(start + timedelta(hours=1))
        ),
        metadata=team.coachee.metadata,
    )
    assert asked.outcome == pb.REQUESTED
    inbox.wait_for(coach, containing="/desk")  # the request, to the coach's account address
    s.requests.DeclineRescheduleRequest(
        pb.DeclineRescheduleRequestRequest(name=asked.request.name), metadata=team.coach.metadata
    )
    with sch.later(world, (start - timedelta(hours=23) - datetime.now(UTC)).total_seconds()):
        inbox.wait_for(coachee, containing="A reminder")
    s.sessions.CancelSession(
        pb.CancelSessionRequest(name=booked.name, reason=pb.REASON_ILLNESS),
        metadata=team.coach.metadata,
    )  # the calendar's cancellation, with the notice to the coachee
    inbox.wait_for(coachee, containing="cancelled")

    for hours in (50, 74):  # pausing the space cancels both: one notice lists them
        sch.book(s, space.name, team.coachee, sch.hour_from_now(hours), minutes=60)
    s.spaces.PauseSpace(spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata)
    inbox.wait_for(coachee, containing="paused")
    api.auth.UpdateMyProfile(  # in French too
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coachee.metadata,
    )
    s.spaces.ResumeSpace(spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata)
    next_coach, _ = add_person(world, api, team, ipb.COACH, "next-coach")
    s.spaces.ChangeCoach(
        spb.ChangeCoachRequest(name=space.name, coach_member_id=next_coach),
        metadata=team.admin.metadata,
    )
    inbox.wait_for(coachee, containing="/my-space")

    mails = [
        m
        for m in inbox.messages
        if str(m["To"]) in (invited, coach, coachee, admin, moved_to, calendar)
    ]
    links = {link for m in mails for link in links_in(world, body(m))}
    paths = {urlsplit(link).path for link in links}
    kinds = {re.sub(r"/[^/]+$", "/…", p) if p.count("/") > 1 else p for p in paths}
    assert kinds >= {
        "/invite/…",
        "/reset-password/…",
        "/confirm-email/…",
        "/confirm-calendar-email/…",
        "/spaces/…",
        "/desk",
        "/my-space",
    }, kinds
    assert f"/spaces/{space.space_id}" in paths
    for mail in mails:
        if str(mail["To"]) != admin:  # the notice to the old address has no link
            assert links_in(world, body(mail)), mail["Subject"]
    for link in sorted(links):
        status, where = opened(world, link)
        assert status == 200 or (status in (302, 303) and where == "/sign-in"), (link, status)
