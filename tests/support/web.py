"""What the web app's browser tests share: signing in as a person does, a coachee's open space
made through the API, the checks every journey ends with, and a page's status for the tests of
what a person may not reach."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from playwright.sync_api import Page

from gateway.api.convert import tenant_name
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import screenshots, serious_violations
from tests.support.waiting import wait_for


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def in_french(api: Api, who: Session) -> None:
    """The person's pages (and mails) in French from now on."""
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=who.metadata,
    )


def sign_in(page: Page, origin: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{origin}/")
    assert page.url == f"{origin}/sign-in"  # a signed-out person is sent to sign in
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def signed_in(page: Page, origin: str, email: str) -> None:
    """Signed in, and past the sign-in page."""
    sign_in(page, origin, email)
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


def open_space(
    s: sch.Stubs, team: TenantWorld, coachee_member: str, *, bookable: bool = False, **content: str
) -> spb.Space:
    """An active space of `team`'s coach; `bookable`: once scheduling knows it (the coach's
    availability set first)."""
    space = s.spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=coachee_member,
                coach_member_id=team.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=10,
                start_date="2026-01-05",
            ),
            content=spb.SpaceContent(**content),
        ),
        metadata=team.coach.metadata,
    )
    active = s.spaces.ActivateSpace(
        spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata
    )
    if bookable:
        sch.wait_known(s, active.name, team.coach)
    return active


def journey_checks(page: Page, name: str, elsewhere: list[str]) -> None:
    """Screenshots at desktop and phone widths, no serious accessibility violation, and no
    request that left the web app's origin."""
    screenshots(page, name)
    assert serious_violations(page) == []
    assert elsewhere == []


def status_of(page: Page, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return response.status


def post_status(page: Page, url: str, **form: str) -> int:
    """A form posted with the page's own CSRF token (the one its forms carry)."""
    token = page.get_attribute("input[name=csrf_token]", "value") or ""
    answer = page.request.post(url, form={"csrf_token": token, **form}, max_redirects=0)
    return answer.status


def module_assigned(api: Api, coach: Session, space: spb.Space, slug: str) -> cpb.ModuleAssignment:
    """A shipped module assigned to the space through the API, once content knows the space
    (it learns of spaces from their events)."""
    stub = content_pb2_grpc.ContentServiceStub(api.channel)

    def assign() -> cpb.ModuleAssignment | None:
        try:
            return stub.AssignModule(
                cpb.AssignModuleRequest(parent=space.name, slug=slug), metadata=coach.metadata
            )
        except grpc.RpcError:
            return None

    found: cpb.ModuleAssignment = wait_for(assign, 60, "content's copy of the active space")
    return found
