"""HR's console in a real browser (Debian's chromium driven by Playwright), from sign-in: the
members (adding one, a refused time zone beside its field, one's own roles refused, a CSV import
with a bad row, paging), the settings and seats, the scheduling policy, the video provider (its
secret never comes back), opening a space, changing the draft's set-up, its coach activating it,
giving it another coach, archiving a draft, and the audit log in the admin's time zone; by
keyboard and in French too. Never content: the coachee's note, goal and project appear on no HR
page. A coach, a coachee, an admin whose role was taken away, and another tenant's ids in every
HR page and action find nothing (404). The operator's organisations page, too; the operator
finds no HR page (reports, webhooks, members).

Screenshots at desktop and phone widths, axe-core audit and no request off the origin, as in
tests/e2e/test_web_app.py."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc as spb_grpc
from gateway.web.app import create_app
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session, unique_email, unique_slug
from tests.support.browser import browsing
from tests.support.isolation import all_members, as_dict
from tests.support.people import OPERATOR_PASSWORD, create_operator, totp_code
from tests.support.spaces import add_person
from tests.support.web import email_of, in_french, journey_checks, open_space, sign_in

NOTE_BODY = "Confidential: my manager and I disagree about the Lyon move"
GOAL_TITLE = "Private goal about the Lyon move"
PROJECT = "Private project about Lyon"
VIDEO_SECRET = "video-secret-" + "x" * 40
IMPORTED = 55  # more than a page of members (50)


def csv_file(good: int, bad_email: str) -> bytes:
    rows = ["email,role,name"]
    rows += [f"{unique_email('imported')},coachee,Imported {n}" for n in range(good)]
    rows.insert(2, f"{bad_email},coachee,Bad Row")  # line 3
    return ("\n".join(rows) + "\n").encode()


# What the actions' forms could carry, naming the other tenant's people.
FORM_VALUES = {
    "roles": "COACH",
    "department": "Stolen",
    "cadence": "WEEKLY",
    "sessions_planned": "5",
    "start_date": "2027-02-01",
}


def routes_naming_ids(prefix: str) -> list[tuple[str, str]]:
    """Every (method, path) of the web app under `prefix` that names a member or a space."""
    app = create_app("127.0.0.1:9", bytes(32), secure_cookie=False)
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix) and rule.arguments & {"member_id", "space_id"}
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def other_tenant_state(api: Api, s: sch.Stubs, team: TenantWorld) -> dict[str, Any]:
    spaces = s.spaces.ListSpaces(
        spb.ListSpacesRequest(parent=tenant_name(team.tenant_id), page_size=200),
        metadata=team.admin.metadata,
    )
    return {
        "members": all_members(api, team.admin, team.tenant_id),
        "spaces": [as_dict(space) for space in spaces.spaces],
    }


def focused(page: Page) -> tuple[str, str]:
    """The focused element's tag, and its id (or its text when it has none)."""
    found = page.evaluate(
        "() => [document.activeElement.tagName,"
        " document.activeElement.id || document.activeElement.innerText.trim()]"
    )
    return found[0], found[1]


class Seen:
    """Every HR page's text as the browser showed it, to check no content ever appears."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.texts: list[str] = []

    def keep(self) -> str:
        text = self.page.content()
        self.texts.append(text)
        return text


def test_hr_runs_their_organisation_from_the_browser(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_time_zone(api, team.admin, "Asia/Tokyo")
    secret_space = open_space(s, team, team.coachee_member, project=PROJECT)
    s.notes.CreateNote(
        spb.CreateNoteRequest(
            parent=secret_space.name, note=spb.Note(kind=spb.SHARED, body=NOTE_BODY)
        ),
        metadata=team.coachee.metadata,
    )
    spb_grpc.GoalServiceStub(api.channel).CreateGoal(
        spb.CreateGoalRequest(parent=secret_space.name, goal=spb.Goal(title=GOAL_TITLE)),
        metadata=team.coachee.metadata,
    )
    coach_email = email_of(api, team.coach)

    with browsing(browser, origin) as (_, page, elsewhere):
        seen = Seen(page)
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        assert page.inner_text("h1") == "Members"
        assert coach_email in page.inner_text("#members")
        seen.keep()
        journey_checks(page, "hr-members", elsewhere)

        # By keyboard: the skip link first, then the page in reading order, every field labelled.
        page.keyboard.press("Tab")
        assert focused(page) == ("A", "Skip to the content")
        page.keyboard.press("Enter")
        page.focus("#to-import")
        order = []
        for _ in range(16):
            page.keyboard.press("Tab")
            order.append(focused(page)[1])
        assert order[:4] == ["q", "role", "status", "search-members"]  # the search first
        order = order[4:]
        assert order[0].startswith("Email")  # the table's scrollable region, then its links
        assert order[1:4] == [email_of(api, who) for who in (team.admin, team.coach, team.coachee)]
        assert order[4:] == [
            "email",
            "display_name",
            "roles-TENANT_ADMIN",
            "roles-COACH",
            "roles-COACHEE",
            "locale",
            "time_zone",
            "Send the invitation",
        ], order

        # Adding a member: a time zone the gateway refuses is shown beside its field.
        newcomer = unique_email("newcomer")
        page.fill("#email", newcomer)
        page.fill("#display_name", "Nora Newcomer")
        page.fill("#time_zone", "Mars/Olympus")
        page.click("#add-member button[type=submit]")
        assert (
            page.inner_text("#time_zone-error") == "Enter an IANA time zone such as Europe/Paris."
        )
        assert page.get_attribute("#time_zone", "aria-invalid") == "true"
        assert page.input_value("#email") == newcomer  # what was typed stays
        journey_checks(page, "hr-add-member-refused", elsewhere)
        assert newcomer not in page.inner_text("#members")  # nothing was added
        page.fill("#time_zone", "Europe/Paris")
        page.click("#add-member button[type=submit]")
        page.wait_for_url(re.compile(r"/hr/members/[a-z]{3}_[0-9a-f]+\?done=invited$"))
        assert "invitation is on its way" in page.inner_text("#done")
        assert page.inner_text("#member-status") == "Invited"
        assert page.inner_text("#member-roles") == "Coachee"
        newcomer_id = page.url.split("/")[-1].split("?")[0]
        journey_checks(page, "hr-member", elsewhere)

        # Their roles change; one's own roles cannot (the gateway's refusal is shown).
        page.check("#roles-COACH")
        page.click("#save-roles")
        page.wait_for_url(re.compile(r"done=roles$"))
        assert page.inner_text("#member-roles") == "Coach, Coachee"
        page.goto(f"{origin}/hr/members/{team.admin_member}")
        page.check("#roles-COACH")
        page.click("#save-roles")
        assert "your own membership" in page.inner_text("#error")
        assert page.inner_text("#member-roles") == "Tenant administrator (HR)"

        # A CSV import: every good row added, the bad one listed with its line and why.
        page.click(".hr-nav >> text=Members")
        page.click("#to-import")
        page.wait_for_url(f"{origin}/hr/members/import")
        page.set_input_files(
            "#csv",
            {
                "name": "people.csv",
                "mimeType": "text/csv",
                "buffer": csv_file(IMPORTED, "not-an-email"),
            },
        )
        page.click("#import")
        summary = page.inner_text("#import-summary")
        assert f"Added: {IMPORTED}." in summary and "Rejected: 1." in summary
        rows = page.locator("#import-rows tbody tr").all_inner_texts()
        assert len(rows) == 1 and rows[0].startswith("3\tnot-an-email\t")
        seen.keep()
        journey_checks(page, "hr-import", elsewhere)
        page.goto(f"{origin}/hr/members")
        page.click("#next-page")  # more than a page of members now
        assert page.locator("#members tbody tr").count() >= 1
        page.click("text=First page")
        page.wait_for_url(f"{origin}/hr/members")

        # Settings and seats, from the header's links.
        page.click(".hr-nav >> text=Settings")
        page.wait_for_url(f"{origin}/hr/settings")
        assert "seats are used" in page.inner_text("#seats")
        page.select_option("#default_locale", "fr")
        page.fill("#default_time_zone", "Europe/Berlin")
        page.click("#save-settings")
        page.wait_for_url(f"{origin}/hr/settings?done=saved")
        assert page.input_value("#default_time_zone") == "Europe/Berlin"
        seen.keep()
        journey_checks(page, "hr-settings", elsewhere)

        # The scheduling policy: a late window longer than the free one is refused.
        page.goto(f"{origin}/hr/scheduling-policy")
        page.fill("#free_hours", "48")
        page.fill("#request_hours", "100")
        page.click("#save-policy")
        assert page.is_visible("#error")
        page.fill("#request_hours", "12")
        page.uncheck("#late_cancel_uses_session")
        page.click("#save-policy")
        page.wait_for_url(f"{origin}/hr/scheduling-policy?done=saved")
        assert page.input_value("#free_hours") == "48"
        assert page.input_value("#request_hours") == "12"
        journey_checks(page, "hr-policy", elsewhere)
        policy = s.policies.GetSchedulingPolicy(
            sch.pb.GetSchedulingPolicyRequest(name=f"tenants/{team.tenant_id}/schedulingPolicy"),
            metadata=team.coach.metadata,
        )
        assert (policy.free_hours, policy.request_hours) == (48, 12)
        assert not policy.late_cancel_uses_session

        # The video provider: the secret goes in and never comes back.
        page.goto(f"{origin}/hr/video")
        page.select_option("#provider", "VIDEO_PROVIDER_JITSI")
        page.fill("#server_url", "https://meet.example.com")
        page.fill("#app_id", "ecoach-hr-test")
        page.fill("#app_secret", "short")
        page.click("#save-video")
        assert page.is_visible("#app_secret-error")
        assert "short" not in page.input_value("#app_secret")
        page.fill("#app_secret", VIDEO_SECRET)
        page.click("#save-video")
        page.wait_for_url(f"{origin}/hr/video?done=saved")
        assert page.input_value("#server_url") == "https://meet.example.com"
        assert page.input_value("#app_secret") == ""
        assert "A secret is kept" in page.inner_text("#app_secret-hint")
        assert VIDEO_SECRET not in page.content()
        journey_checks(page, "hr-video", elsewhere)

        second_coach, _second = add_person(deployment, api, team, ipb.COACH, "second-coach")
        # A space: opened by HR as a draft, activated by its coach, seen by HR as active.
        # Each person found by a search, never picked from the whole member list.
        page.goto(f"{origin}/hr/spaces/new")
        assert page.locator("#coachee-matches option").count() == 0
        page.fill("#coachee", "nobody-such@example.test")
        page.fill("#coach", email_of(api, team.coachee))  # a member, but not a coach
        page.click("#search-people")
        assert page.inner_text("#coachee-error") == "No member of the organisation matches this."
        assert page.inner_text("#coach-error") == "This member does not have the Coach role."
        page.fill("#coachee", newcomer[:14])  # the start of the email: one coachee matches
        page.fill("#coach", coach_email[:12])
        page.click("#search-people")
        assert page.input_value("#coachee") == newcomer
        assert newcomer in page.inner_text("#coachee-found")
        assert page.input_value("#coach") == coach_email
        assert page.locator("#coach-matches option").count() == 1
        journey_checks(page, "hr-new-space-search", elsewhere)
        token = page.get_attribute("input[name=csrf_token]", "value") or ""
        answer = page.request.post(  # a search the API refuses: beside the field, no crash
            f"{origin}/hr/spaces/new",
            form={"csrf_token": token, "coachee": "a\nb", "coach": "x" * 120, "step": "search"},
        )
        assert answer.status == 400
        assert answer.text().count("Enter at most 100 characters on one line.") == 2
        page.select_option("#cadence", "EVERY_TWO_WEEKS")
        page.fill("#sessions_planned", "8")
        page.fill("#start_date", "2027-02-01")
        page.click("#open-space")
        page.wait_for_url(re.compile(r"/hr/spaces/[a-z]{3}_[0-9a-f]+\?done=created$"))
        assert page.inner_text("#space-status") == "Draft"
        space_id = page.url.split("/")[-1].split("?")[0]
        journey_checks(page, "hr-space-draft", elsewhere)
        page.fill("#sessions_planned", "9")  # a draft's set-up changes
        page.click("#save-set-up")
        page.wait_for_url(re.compile(r"done=set_up$"))
        assert "Sessions planned\n9" in page.inner_text("#space-facts")
        s.spaces.ActivateSpace(
            spb.SpaceMoveRequest(name=f"tenants/{team.tenant_id}/spaces/{space_id}"),
            metadata=team.coach.metadata,
        )
        page.goto(f"{origin}/hr/spaces/{space_id}")
        assert page.inner_text("#space-status") == "Active"
        assert page.locator("#archive").count() == 0  # the coach completes it first
        assert page.locator("#set-up-form").count() == 0  # no longer a draft
        page.select_option("#new_coach", second_coach)
        page.click("#change-coach")
        page.wait_for_url(re.compile(r"done=coach$"))
        assert page.inner_text("#space-coach").startswith("second-coach")

        # A draft HR archives.
        draft = s.spaces.CreateSpace(
            spb.CreateSpaceRequest(
                parent=tenant_name(team.tenant_id),
                set_up=spb.SpaceSetUp(
                    coachee_member_id=newcomer_id,
                    coach_member_id=team.coach_member,
                    cadence=spb.MONTHLY,
                    sessions_planned=3,
                    start_date="2027-03-01",
                ),
            ),
            metadata=team.admin.metadata,
        )
        page.goto(f"{origin}/hr/spaces/{draft.space_id}")
        page.click("#archive")
        page.wait_for_url(re.compile(r"done=archive$"))
        assert page.inner_text("#space-status") == "Archived"

        # The coachee's space: set-up and status only.
        page.goto(f"{origin}/hr/spaces")
        assert page.locator("#spaces tbody tr").count() == 3
        seen.keep()
        journey_checks(page, "hr-spaces", elsewhere)
        page.goto(f"{origin}/hr/spaces/{secret_space.space_id}")
        assert page.inner_text("#space-status") == "Active"
        seen.keep()

        # The audit log, in the admin's time zone.
        page.goto(f"{origin}/hr/audit")
        audit = page.inner_text("#audit")
        assert "Member invited" in audit and "Settings changed" in audit
        assert "Japan" in audit
        seen.keep()
        journey_checks(page, "hr-audit", elsewhere)
        page.click("#next-page")  # the import alone made more than a page
        assert "Roles changed" in page.inner_text("#audit")  # the newcomer's, before it

        # In French.
        page.goto(f"{origin}/hr/members?lang=fr")
        assert page.inner_text("h1") == "Membres"
        page.goto(f"{origin}/hr/audit?lang=fr")
        assert "Membre invité" in page.inner_text("#audit")
        assert "heure normale du Japon" in page.inner_text("#audit")

        for text in seen.texts:
            assert NOTE_BODY not in text and GOAL_TITLE not in text and PROJECT not in text

    # The saved settings, as the gateway has them.
    settings = api.tenants.GetTenantSettings(
        ipb.GetTenantSettingsRequest(name=f"tenants/{team.tenant_id}/settings"),
        metadata=team.admin.metadata,
    )
    assert (settings.default_locale, settings.default_time_zone) == ("fr", "Europe/Berlin")


def test_hr_pages_are_not_found_for_anyone_but_the_tenants_admin(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    other = make_tenant(deployment, api, operator)
    theirs = open_space(s, other, other.coachee_member, project="Another tenant's")
    mine = open_space(s, team, team.coachee_member, project=PROJECT)
    paths = [
        "/hr/members",
        "/hr/members/import",
        f"/hr/members/{team.coach_member}",
        "/hr/settings",
        "/hr/scheduling-policy",
        "/hr/video",
        "/hr/audit",
        "/hr/spaces",
        f"/hr/spaces/{mine.space_id}",
    ]
    for who in (team.coach, team.coachee):
        with browsing(browser, origin) as (_, page, _elsewhere):
            sign_in(page, origin, email_of(api, who))
            page.wait_for_url(lambda url: not url.endswith("/sign-in"))
            assert page.locator(".hr-nav").count() == 0
            for path in paths:
                response = page.goto(f"{origin}{path}")
                assert response is not None and response.status == 404, (who, path)

    # The admin, with another tenant's ids in every HR page and action that takes one: 404,
    # and nothing changes in the other tenant.
    theirs_draft = s.spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(other.tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=other.coachee_member,
                coach_member_id=other.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=4,
                start_date="2027-01-04",
            ),
        ),
        metadata=other.admin.metadata,
    )
    before = other_tenant_state(api, s, other)
    routes = routes_naming_ids("/hr/")
    assert len(routes) == 10, routes  # 2 pages, 8 actions
    ids = {"<member_id>": other.coach_member, "<space_id>": theirs_draft.space_id}
    people = {
        "coachee_member_id": other.coachee_member,
        "coach_member_id": other.coach_member,
        "new_coach": other.coach_member,
    }
    with browsing(browser, origin) as (context, page, _elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        token = page.get_attribute("input[name=csrf_token]", "value") or ""
        assert token
        for method, rule in routes:
            path = rule
            for placeholder, value in ids.items():
                path = path.replace(placeholder, value)
            if method == "GET":
                response = page.goto(f"{origin}{path}")
                assert response is not None and response.status == 404, path
                assert "Another tenant's" not in page.content()
            else:
                form = {"csrf_token": token, **FORM_VALUES, **people}
                answer = context.request.post(f"{origin}{path}", form=form, max_redirects=0)
                assert answer.status == 404, path
        for path in ("/hr/spaces/not%20an%20id", "/hr/members/not%20an%20id"):
            assert page.goto(f"{origin}{path}").status == 404  # type: ignore[union-attr]
    assert other_tenant_state(api, s, other) == before
    assert theirs.space_id in str(before["spaces"])

    # An admin whose role another admin took away finds nothing any more, though their
    # browser's session still says admin.
    second_member, _second = add_person(deployment, api, team, ipb.TENANT_ADMIN, "second-admin")
    second_email = api.members.GetMember(
        ipb.GetMemberRequest(name=member_name(team.tenant_id, second_member)),
        metadata=team.admin.metadata,
    ).email
    with browsing(browser, origin) as (_, page, _elsewhere):
        sign_in(page, origin, second_email)
        page.wait_for_url(f"{origin}/hr/members")
        api.members.UpdateMember(
            ipb.UpdateMemberRequest(
                member=ipb.Member(
                    name=member_name(team.tenant_id, second_member), roles=[ipb.COACH]
                ),
                update_mask=FieldMask(paths=["roles"]),
            ),
            metadata=team.admin.metadata,
        )
        for path in ("/hr/members", "/hr/audit", f"/hr/spaces/{mine.space_id}"):
            response = page.goto(f"{origin}{path}")
            assert response is not None
            assert response.status == 404, path  # memberships are read at each call
            assert PROJECT not in page.content()


def test_hr_reads_field_errors_beside_their_fields_in_french(
    deployment: Deployment,
    api: Api,
    operator: Session,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    in_french(api, team.admin)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        assert page.inner_text("h1") == "Membres"
        page.goto(f"{origin}/hr/scheduling-policy")
        # The browser's own checks (min, max) let through, as a script-less client would.
        page.eval_on_selector("#policy-form", "form => { form.noValidate = true; }")
        page.fill("#free_hours", "900")
        page.fill("#request_hours", "12")
        page.click("#save-policy")
        # Out of range: the gateway refuses the field, shown beside it in French.
        assert page.inner_text("#free_hours-error") == "Un nombre entier d'heures de 1 à 720."
        assert page.get_attribute("#free_hours", "aria-invalid") == "true"
        assert page.get_attribute("#free_hours", "aria-describedby") == (
            "free_hours-hint free_hours-error"
        )
        journey_checks(page, "hr-policy-refused-fr", elsewhere)
        # Not a number at all (a client without the browser's checks): said before any call.
        token = page.get_attribute("input[name=csrf_token]", "value") or ""
        answer = page.request.post(
            f"{origin}/hr/scheduling-policy",
            form={"csrf_token": token, "free_hours": "douze", "request_hours": "12"},
        )
        assert answer.status == 400
        assert 'id="free_hours-error">Saisissez un nombre entier.<' in answer.text()
        # Opening a space: who was not found, or lacks the role, is said in French too.
        page.goto(f"{origin}/hr/spaces/new")
        page.fill("#coachee", email_of(api, team.coach))
        page.fill("#coach", "personne-inconnue@example.test")
        page.click("#search-people")
        assert page.inner_text("#coachee-error") == "Ce membre n'a pas le rôle Coaché·e."
        assert page.inner_text("#coach-error") == "Aucun membre de l'organisation ne correspond."
        journey_checks(page, "hr-new-space-refused-fr", elsewhere)


def test_an_operator_creates_suspends_and_reinstates_an_organisation(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    slug = unique_slug("web")
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, create_operator(deployment.config), OPERATOR_PASSWORD)
        page.wait_for_url(f"{origin}/sign-in/code")
        page.fill("#code", totp_code(deployment.config))
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/desk")
        page.click(".hr-nav >> text=Organisations")
        page.wait_for_url(f"{origin}/operator/tenants")

        page.fill("#display_name", "Initech")
        page.fill("#slug", "Not A Slug")
        page.click("#create")
        assert page.inner_text("#slug-error") == (
            "Lowercase letters, digits and hyphens, not taken by another organisation."
        )
        assert page.input_value("#display_name") == "Initech"
        page.fill("#slug", slug)
        page.click("#create")
        page.wait_for_url(f"{origin}/operator/tenants?done=created")

        def row() -> str:
            """The new tenant's row, following the pages (oldest first)."""
            while page.locator(f"#tenant-{slug}").count() == 0:
                page.click("#next-page")
            return page.inner_text(f"#tenant-{slug}")

        assert "Initech" in row() and "Active" in row()
        journey_checks(page, "operator-tenants", elsewhere)
        page.click(f"#suspend-{slug}")
        page.wait_for_url(f"{origin}/operator/tenants?done=suspended")
        assert "Suspended" in row()
        created = [
            t
            for t in api.tenants.ListTenants(
                ipb.ListTenantsRequest(page_size=200), metadata=operator.metadata
            ).tenants
            if t.slug == slug
        ]
        assert len(created) == 1 and created[0].state == ipb.TENANT_SUSPENDED
        page.click(f"#reinstate-{slug}")
        page.wait_for_url(f"{origin}/operator/tenants?done=reinstated")
        assert "Active" in row()

        # Its first administrator, invited from the same page.
        hr_email = unique_email("first-hr")
        page.select_option("#admin_tenant", created[0].tenant_id)
        page.fill("#admin_email", hr_email)
        page.click("#invite-admin")
        page.wait_for_url(f"{origin}/operator/tenants?done=invited")
        members = api.members.ListMembers(
            ipb.ListMembersRequest(parent=tenant_name(created[0].tenant_id)),
            metadata=operator.metadata,
        ).members
        assert [(m.email, list(m.roles), m.status) for m in members] == [
            (hr_email, [ipb.TENANT_ADMIN], ipb.PENDING)
        ]

        # An organisation's HR pages are its tenant admins' alone: the operator, who belongs to
        # no organisation, finds none of them (reports and their download, webhooks, members).
        for path in (
            "/hr/reports",
            "/hr/reports?report=sessions&group_by=department",
            "/hr/reports/export?report=sessions",
            "/hr/webhooks",
            "/hr/members",
        ):
            response = page.goto(f"{origin}{path}")
            assert response is not None and response.status == 404, path

    # A tenant admin (or anyone but an operator) finds no such page.
    with browsing(browser, origin) as (_, page, _elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        response = page.goto(f"{origin}/operator/tenants")
        assert response is not None and response.status == 404


def test_hr_searches_and_filters_members_and_never_finds_another_tenants(
    deployment: Deployment,
    api: Api,
    operator: Session,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    other = make_tenant(deployment, api, operator)

    def named(t: TenantWorld, role: int, name: str) -> None:
        _member, session = add_person(deployment, api, t, role, "searched")
        api.auth.UpdateMyProfile(
            ipb.UpdateMyProfileRequest(
                display_name=name, update_mask=FieldMask(paths=["display_name"])
            ),
            metadata=session.metadata,
        )

    named(team, ipb.COACHEE, "Éloïse Martin")
    named(team, ipb.COACH, "Marc Martin")
    named(other, ipb.COACHEE, "Martin Étranger")
    for i in range(3):
        named(team, ipb.COACHEE, f"Martine {i}")
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        page.fill("#q", "martin")
        page.click("#search-members")
        page.wait_for_url(re.compile(r".*/hr/members\?q=martin.*"))
        names = page.inner_text("#members")
        assert "Éloïse Martin" in names and "Marc Martin" in names and "Martine 2" in names
        assert "Étranger" not in names
        assert email_of(api, team.coachee) not in names
        journey_checks(page, "hr-members-search", elsewhere)
        # accents and case aside, filtered by role: the link is the search
        page.goto(f"{origin}/hr/members?q=ELOISE&role=COACHEE&status=ACTIVE")
        assert page.input_value("#q") == "ELOISE"
        assert page.input_value("#role") == "COACHEE"
        assert "Éloïse Martin" in page.inner_text("#members")
        page.select_option("#role", "COACH")
        page.click("#search-members")
        page.wait_for_url(re.compile(r".*role=COACH&.*"))
        assert page.inner_text("#no-match") == "No member matches this search."
        # another tenant's member is never found, by name or email
        page.goto(f"{origin}/hr/members?q=etranger")
        assert page.locator("#members").count() == 0
        # a search the API refuses: said beside the field, nothing crashes
        answer = page.request.get(f"{origin}/hr/members?q={'x' * 101}")
        assert answer.status == 400
        assert 'id="q-error">Enter at most 100 characters on one line.<' in answer.text()
