"""The coach's desk in a real browser (Debian's chromium driven by Playwright), from sign-in:
the roster with what waits for them, one reschedule request approved and one declined, a
coachee's space reached with the keyboard (a goal added, achieved, its history read, archived; a
private note previewed, saved, marked as private and unseen by the coachee, then edited; a shared
note written without script), the availability editor and its errors beside the fields (English
and French), the calendar, attendance marked once the session is over, and a draft's set-up; a
space moved through its lifecycle (a refused move's reason shown; completing and archiving
confirmed first, also without script) and an availability exception added (its slots leave the
coachee's bookable slots) and removed, bad input refused beside its field. Then what a coach may not reach: another coach's
coachee, another tenant's ids, a former coach's space, and the coach's pages for a coachee or HR.

Each journey keeps screenshots at desktop and phone widths, runs the accessibility audit and
checks that no request left the web app's origin (tests/support/browser.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.field_mask_pb2 import FieldMask
from playwright.sync_api import Browser

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import email_of, journey_checks, open_space, post_status, sign_in, status_of

PARIS = ZoneInfo("Europe/Paris")


def test_a_coach_works_through_their_desk(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_time_zone(api, team.coach, "Europe/Paris")
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = open_space(s, team, team.coachee_member, bookable=True, project="Lead the Lyon team")
    # A session 30 hours ahead the coachee asks to move (inside the default request window),
    # one about to end that will need marking, and a shared note from the coachee.
    asked_for = sch.book(s, space.name, team.coachee, sch.hour_from_now(30))
    proposed = sch.dt(asked_for.start_time) + timedelta(hours=2)
    asked = s.sessions.RescheduleSession(
        schpb.RescheduleSessionRequest(name=asked_for.name, start_time=sch.ts(proposed)),
        metadata=team.coachee.metadata,
    )
    assert asked.outcome == schpb.REQUESTED
    other = sch.book(s, space.name, team.coachee, sch.hour_from_now(36))
    declined = s.sessions.RescheduleSession(
        schpb.RescheduleSessionRequest(
            name=other.name, start_time=sch.ts(sch.dt(other.start_time) + timedelta(hours=3))
        ),
        metadata=team.coachee.metadata,
    ).request
    soon = sch.book(s, space.name, team.coachee, sch.hour_from_now(0), minutes=15)
    # One the coachee cancels late, which will have taken place after all.
    dropped = sch.book(s, space.name, team.coachee, sch.hour_from_now(1), minutes=15)
    s.sessions.CancelSession(
        schpb.CancelSessionRequest(name=dropped.name), metadata=team.coachee.metadata
    )
    s.notes.CreateNote(
        spb.CreateNoteRequest(parent=space.name, note=spb.Note(kind=spb.SHARED, body="Hello")),
        metadata=team.coachee.metadata,
    )

    coach_email = email_of(api, team.coach)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, coach_email)
        page.wait_for_url(f"{origin}/desk")
        assert page.inner_text("h1") == "My coachees"
        entry = page.locator(f"#entry-{space.space_id}")
        assert "Coachee" in entry.inner_text() and "Active" in entry.inner_text()
        assert entry.locator(".new-notes").inner_text() == "1"
        request = page.locator(f"#request-{asked.request.request_id}")
        paris = proposed.astimezone(PARIS).strftime("%H:%M")
        assert paris in request.inner_text()  # in the coach's time zone
        journey_checks(page, "coach-desk-roster", elsewhere)

        # The reschedule request approved: the session moves.
        page.click(f"#approve-{asked.request.request_id}")
        page.wait_for_url(f"{origin}/desk?done=approved")
        assert page.locator(f"#request-{asked.request.request_id}").count() == 0
        moved = s.sessions.GetSession(
            schpb.GetSessionRequest(name=asked_for.name), metadata=team.coach.metadata
        )
        assert sch.dt(moved.start_time) == proposed
        # The other declined: it stays where it was.
        page.click(f"#decline-{declined.request_id}")
        page.wait_for_url(f"{origin}/desk?done=declined")
        assert "No request is waiting for you." in page.inner_text("#requests-title ~ p")
        kept = s.sessions.GetSession(
            schpb.GetSessionRequest(name=other.name), metadata=team.coach.metadata
        )
        assert kept.start_time == other.start_time and not kept.pending_request

        # The coachee's space, reached with the keyboard: skip link, then the first coachee.
        page.goto(f"{origin}/desk")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Coachee"
        page.keyboard.press("Enter")
        page.wait_for_url(f"{origin}/coach/spaces/{space.space_id}")
        assert "Lead the Lyon team" in page.inner_text("main")
        page.fill("#goal-title", "Run better one-to-ones")
        page.fill("#goal-progress", "130")
        page.click("#add-goal")
        assert "Write a progress from 0 to 100." in page.inner_text("#goal-progress ~ .field-error")
        page.fill("#goal-progress", "30")
        page.click("#add-goal")
        page.wait_for_url(f"{origin}/coach/spaces/{space.space_id}?done=goal#goals")
        assert "Run better one-to-ones" in page.inner_text("#goals ~ .goal-list")
        [goal] = page.locator(".goal").all()
        goal.locator("summary").click()
        goal.locator("input[name=progress]").fill("100")
        goal.locator("text=Save the goal").click()
        page.wait_for_url(lambda url: "done=goal" in url)
        assert "Achieved" in page.inner_text("#goals ~ .goal-list")

        assert page.is_checked("#kind-private")  # a note is private unless the coach shares it
        page.fill("#note-body", "Ask about **delegation** <script>x</script>")
        page.click("#preview-note")  # htmx swaps the preview in, the page stays
        page.wait_for_selector("#preview strong")
        assert page.inner_text("#preview strong") == "delegation"
        assert page.locator("#preview script").count() == 0
        assert "done=goal" in page.url and "/notes" not in page.url  # no navigation
        page.click("#save-note")
        page.wait_for_url(f"{origin}/coach/spaces/{space.space_id}?done=note#notes")
        private = page.locator(".note.private")
        assert private.count() == 1 and "delegation" in private.inner_text()
        assert "Private: only you can read it" in private.locator(".badge").inner_text()
        assert page.locator(".note.shared").count() == 1  # the coachee's, marked as shared
        journey_checks(page, "coach-space", elsewhere)
        seen = s.notes.ListNotes(
            spb.ListNotesRequest(parent=space.name), metadata=team.coachee.metadata
        ).notes
        assert [n.body for n in seen] == ["Hello"]  # the coachee never sees the private note

        # The private note edited: the author's own, from its edit page.
        private.locator("text=Edit").click()
        page.wait_for_url(lambda url: "/edit" in url)
        assert "Private: only you can read it" in page.inner_text("main")
        page.fill("#note-body", "Ask about *delegation* and feedback")
        page.click("#save-note")
        page.wait_for_url(f"{origin}/coach/spaces/{space.space_id}?done=note#note-*")
        assert page.inner_text(".note.private em") == "delegation"

        # The goal's history.
        page.click("#goals ~ .goal-list summary")
        page.click("text=History of the goal")
        history = page.inner_text("#history")
        assert "Run better one-to-ones" in history and "100" in history  # creation, then 100
        assert page.locator("#history > li").count() == 2
        page.click("text=Back to the space")
        page.click("#goals ~ .goal-list summary")
        page.click("text=Archive the goal")
        page.wait_for_url(lambda url: "done=archived" in url)
        assert page.locator(".goal-list").count() == 0
        assert "Run better one-to-ones" in page.inner_text("#goals ~ .goals")

        # Availability: an error beside its row, nothing saved; then saved.
        page.click("nav.tabs >> text=My availability")
        page.wait_for_url(f"{origin}/coach/availability")
        page.fill("#d1r0_start", "12:00")
        page.fill("#d1r0_end", "09:00")
        page.click("#save-availability")
        assert page.inner_text("#d1r0-error") == "The end must come after the start."
        assert page.get_attribute("#d1r0_start", "aria-invalid") == "true"
        unchanged = s.availability.GetMyAvailability(
            schpb.GetMyAvailabilityRequest(), metadata=team.coach.metadata
        )
        assert len(unchanged.weekly) == 7
        journey_checks(page, "coach-availability-error", elsewhere)
        for weekday in range(1, 8):
            page.fill(f"#d{weekday}r0_start", "")
            page.fill(f"#d{weekday}r0_end", "")
        page.fill("#d1r0_start", "09:00")
        page.fill("#d1r0_end", "12:00")
        page.fill("#d3r1_start", "14:00")
        page.fill("#d3r1_end", "24:00")
        page.fill("#time_zone", "Mars/Olympus")
        page.click("#save-availability")
        assert page.is_visible("#time_zone-error")  # the gateway's refusal, beside the field
        page.fill("#time_zone", "Europe/Paris")
        page.click("#save-availability")
        page.wait_for_url(f"{origin}/coach/availability?done=availability")
        saved = s.availability.GetMyAvailability(
            schpb.GetMyAvailabilityRequest(), metadata=team.coach.metadata
        )
        assert saved.time_zone == "Europe/Paris"
        assert [(h.weekday, h.start_time, h.end_time) for h in saved.weekly] == [
            (schpb.MONDAY, "09:00", "12:00"),
            (schpb.WEDNESDAY, "14:00", "24:00"),
        ]

        # The calendar, the week of the moved session, in the coach's time zone.
        day = proposed.astimezone(PARIS).date().isoformat()
        page.goto(f"{origin}/coach/calendar?lang=en&date={day}")
        assert page.inner_text("h1") == "My calendar"
        slot = page.locator(f"#session-{asked_for.session_id}")
        assert paris in slot.inner_text() and "Coachee" in slot.inner_text()
        journey_checks(page, "coach-calendar", elsewhere)
        page.click("#month-view")
        assert page.locator(f"#session-{asked_for.session_id}").count() == 1
        # Their calendar feed and reminders, their profile and their data, like anyone's.
        page.click("#calendar-settings")
        page.wait_for_url(f"{origin}/me/calendar")
        page.click("#nav-profile")
        page.wait_for_url(f"{origin}/me/profile")
        page.click("#nav-data")
        page.wait_for_url(f"{origin}/me/data")

        # Later: the short session is over and waits to be marked.
        offset = (sch.dt(soon.end_time) - datetime.now(UTC)).total_seconds() + 2.5 * 3600
        with sch.later(deployment, offset):
            page.goto(f"{origin}/desk")
            assert page.locator(f"#entry-{space.space_id} .to-mark").inner_text() == "1"
            page.select_option(f"#attendance-{soon.session_id}", str(schpb.ATTENDANCE_HELD))
            journey_checks(page, "coach-desk-to-mark", elsewhere)
            page.click(f"#mark-{soon.session_id}")
            page.wait_for_url(f"{origin}/desk?done=marked")
            assert page.locator(f"#entry-{space.space_id} .to-mark").inner_text() == "0"
            coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
            marked = s.sessions.GetSession(
                schpb.GetSessionRequest(name=soon.name), metadata=coach.metadata
            )
            assert marked.status == schpb.SESSION_HELD
            # The late cancellation corrected from the calendar: it took place after all.
            day = sch.dt(dropped.start_time).astimezone(PARIS).date().isoformat()
            page.goto(f"{origin}/coach/calendar?lang=en&date={day}")
            page.click(f"#correct-{dropped.session_id} summary")
            page.select_option(f"#attendance-{dropped.session_id}", str(schpb.ATTENDANCE_HELD))
            page.click(f"#mark-{dropped.session_id}")
            page.wait_for_url(f"{origin}/coach/calendar?done=marked")
            corrected = s.sessions.GetSession(
                schpb.GetSessionRequest(name=dropped.name), metadata=coach.metadata
            )
            assert (corrected.status, corrected.late) == (schpb.SESSION_HELD, False)

    # Without script: the preview is the same form's button, the page comes back with it.
    with browsing(browser, origin, java_script_enabled=False) as (_, page, elsewhere):
        sign_in(page, origin, coach_email)
        page.wait_for_url(f"{origin}/desk")
        page.goto(f"{origin}/coach/spaces/{space.space_id}")
        page.check("#kind-shared")
        page.fill("#note-body", "See you **Tuesday**")
        page.click("#preview-note")
        page.wait_for_url(f"{origin}/coach/spaces/{space.space_id}/notes#new-note-title")
        assert page.inner_text("#preview strong") == "Tuesday"
        assert page.input_value("#note-body") == "See you **Tuesday**"
        assert page.is_checked("#kind-shared")
        page.click("#save-note")
        page.wait_for_url(f"{origin}/coach/spaces/{space.space_id}?done=note#notes")
        assert elsewhere == []
    shared = s.notes.ListNotes(
        spb.ListNotesRequest(parent=space.name), metadata=team.coachee.metadata
    ).notes
    assert [n.body for n in shared] == ["See you **Tuesday**", "Hello"]

    # In French, for a coach whose language is French: the errors too, beside their field.
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coach.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, coach_email)
        page.wait_for_url(f"{origin}/desk")
        assert page.inner_text("h1") == "Mes coachés"
        page.goto(f"{origin}/coach/availability")
        page.fill("#d2r0_start", "10:00")
        page.fill("#buffer_minutes", "999")
        page.click("#save-availability")
        assert page.inner_text("#d2r0-error") == "Indiquez un début et une fin."
        assert page.inner_text("#buffer_minutes-error") == "Indiquez un nombre entier de 0 à 240."
        journey_checks(page, "coach-availability-error-fr", elsewhere)


def test_what_is_not_the_coachs_is_not_found(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    elsewhere_team = make_tenant(deployment, api, operator)
    other_coach_member, other_coach = add_person(deployment, api, team, ipb.COACH, "other-coach")
    second_member, _second = add_person(deployment, api, team, ipb.COACHEE, "second-coachee")
    mine = open_space(s, team, team.coachee_member, project="Mine")
    theirs = s.spaces.ActivateSpace(
        spb.SpaceMoveRequest(
            name=s.spaces.CreateSpace(
                spb.CreateSpaceRequest(
                    parent=f"tenants/{team.tenant_id}",
                    set_up=spb.SpaceSetUp(
                        coachee_member_id=second_member,
                        coach_member_id=other_coach_member,
                        cadence=spb.WEEKLY,
                        sessions_planned=4,
                        start_date="2026-01-05",
                    ),
                    content=spb.SpaceContent(project="Not yours"),
                ),
                metadata=other_coach.metadata,
            ).name
        ),
        metadata=other_coach.metadata,
    )
    sch.set_availability(s, elsewhere_team.coach, sch.around_the_clock())
    foreign = open_space(
        s, elsewhere_team, elsewhere_team.coachee_member, bookable=True, project="Foreign"
    )
    foreign_session = sch.book(s, foreign.name, elsewhere_team.coachee, sch.hour_from_now(30))

    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.coach))
        page.wait_for_url(f"{origin}/desk")
        assert status_of(page, f"{origin}/coach/spaces/{mine.space_id}") == 200
        for space_id in (theirs.space_id, foreign.space_id, "not%20an%20id"):
            assert status_of(page, f"{origin}/coach/spaces/{space_id}") == 404
            assert "Not yours" not in page.content() and "Foreign" not in page.content()
        page.goto(f"{origin}/desk")
        for path in (
            f"/coach/spaces/{theirs.space_id}/goals",
            f"/coach/spaces/{foreign.space_id}/notes",
            f"/coach/sessions/{foreign_session.session_id}/attendance",
            f"/coach/sessions/ses_{'0' * 24}/attendance",
            f"/coach/requests/req_{'0' * 24}/approve",
            f"/coach/requests/{foreign_session.session_id}/decline",
            f"/coach/spaces/{theirs.space_id}/moves/pause",
            f"/coach/spaces/{foreign.space_id}/moves/pause",
            f"/coach/spaces/{foreign.space_id}/moves/complete",
            f"/coach/spaces/{mine.space_id}/moves/explode",
            "/coach/spaces/not%20an%20id/moves/pause",
        ):
            assert (
                post_status(
                    page, f"{origin}{path}", title="x", body="x", attendance="1", confirmed="yes"
                )
                == 404
            )
        for space in (theirs, foreign):
            assert space_status(
                s, space, other_coach if space is theirs else elsewhere_team.coach
            ) == (spb.SPACE_ACTIVE)  # no move made through a refused id
        assert (
            s.notes.ListNotes(
                spb.ListNotesRequest(parent=foreign.name), metadata=elsewhere_team.coach.metadata
            ).notes
            == []
        )  # nothing written through a refused id
        assert elsewhere == []

        # A former coach: once HR gives the space to another coach, it is gone for them.
        s.spaces.ChangeCoach(
            spb.ChangeCoachRequest(name=mine.name, coach_member_id=other_coach_member),
            metadata=team.admin.metadata,
        )
        wait_for(
            lambda: status_of(page, f"{origin}/coach/spaces/{mine.space_id}") == 404,
            15,
            "the former coach to lose the space",
        )
        assert "Mine" not in page.content()

    # The coach's pages are not the coachee's nor HR's (who reads no space's content).
    for who in (team.coachee, team.admin):
        with browsing(browser, origin) as (_, page, _elsewhere):
            sign_in(page, origin, email_of(api, who))
            page.wait_for_url(lambda url: not url.endswith("/sign-in"))
            for path in (
                f"/coach/spaces/{mine.space_id}",
                f"/coach/spaces/{mine.space_id}/moves/complete",
                "/coach/calendar",
                "/coach/availability",
            ):
                assert status_of(page, f"{origin}{path}") == 404
            for path in (
                f"/coach/spaces/{mine.space_id}/moves/pause",
                "/coach/availability/exceptions",
            ):
                assert post_status(page, f"{origin}{path}", exception_date="2030-01-01") == 404
        assert space_status(s, mine, team.admin) == spb.SPACE_ACTIVE


def test_a_coach_sets_up_a_draft_space(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    draft = s.spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=f"tenants/{team.tenant_id}",
            set_up=spb.SpaceSetUp(
                coachee_member_id=team.coachee_member,
                coach_member_id=team.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=6,
                start_date="2027-01-04",
            ),
        ),
        metadata=team.coach.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.coach))
        page.wait_for_url(f"{origin}/desk")
        page.goto(f"{origin}/coach/spaces/{draft.space_id}")
        assert page.inner_text("#space-status") == "Draft"
        page.fill("#sessions_planned", "0")
        page.click("#save-set-up")
        assert page.inner_text("#sessions_planned-error") == (
            "Write a number of sessions from 1 to 200."
        )
        page.fill("#sessions_planned", "12")
        page.fill("#end_date", "2026-12-31")  # before the start
        page.click("#save-set-up")
        assert page.inner_text("#end_date-error") == (
            "The end date must not be before the start date."
        )
        page.fill("#end_date", "2027-06-30")
        page.fill("#start_date", "2027-02-30")  # no such day: the gateway says so, here
        page.click("#save-set-up")
        assert page.is_visible("#start_date-error") and page.is_visible("#error")
        unchanged = s.spaces.GetSpace(
            spb.GetSpaceRequest(name=draft.name), metadata=team.coach.metadata
        )
        assert unchanged.set_up.sessions_planned == 6 and unchanged.set_up.end_date == ""
        journey_checks(page, "coach-space-set-up", elsewhere)
        page.select_option("#cadence", str(spb.EVERY_TWO_WEEKS))
        page.fill("#start_date", "2027-01-04")
        page.click("#save-set-up")
        page.wait_for_url(f"{origin}/coach/spaces/{draft.space_id}?done=set-up#set-up")
    saved = s.spaces.GetSpace(spb.GetSpaceRequest(name=draft.name), metadata=team.coach.metadata)
    assert (saved.set_up.cadence, saved.set_up.sessions_planned, saved.set_up.end_date) == (
        spb.EVERY_TWO_WEEKS,
        12,
        "2027-06-30",
    )


def test_a_coach_in_two_tenants_switches_desks_and_each_keeps_its_own_spaces(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    first = make_tenant(deployment, api, operator)
    second = make_tenant(deployment, api, operator)
    email = email_of(api, first.coach)
    added = api.members.AddMember(
        ipb.AddMemberRequest(parent=tenant_name(second.tenant_id), email=email, roles=[ipb.COACH]),
        metadata=second.admin.metadata,
    )
    api.members.AcceptMembership(
        ipb.AcceptMembershipRequest(parent=tenant_name(second.tenant_id)),
        metadata=api.sign_in(email, PASSWORD).metadata,
    )
    here = open_space(s, first, first.coachee_member, project="First tenant's")
    there_coach = api.sign_in(email, PASSWORD, second.tenant_id)
    there = s.spaces.ActivateSpace(
        spb.SpaceMoveRequest(
            name=s.spaces.CreateSpace(
                spb.CreateSpaceRequest(
                    parent=tenant_name(second.tenant_id),
                    set_up=spb.SpaceSetUp(
                        coachee_member_id=second.coachee_member,
                        coach_member_id=added.member_id,
                        cadence=spb.WEEKLY,
                        sessions_planned=4,
                        start_date="2026-01-05",
                    ),
                ),
                metadata=there_coach.metadata,
            ).name
        ),
        metadata=there_coach.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email)
        page.wait_for_url(f"{origin}/tenants")
        page.click(f"button:has-text('Tenant {first.slug}')")
        page.wait_for_url(f"{origin}/desk")
        assert page.locator(f"#entry-{here.space_id}").count() == 1
        assert page.locator(f"#entry-{there.space_id}").count() == 0
        assert status_of(page, f"{origin}/coach/spaces/{there.space_id}") == 404
        page.goto(f"{origin}/desk")
        page.click(f"button:has-text('Open the desk of Tenant {second.slug}')")
        page.wait_for_url(f"{origin}/desk")
        assert f"Tenant {second.slug}" in page.inner_text("#who")
        assert page.locator(f"#entry-{there.space_id}").count() == 1
        assert page.locator(f"#entry-{here.space_id}").count() == 0
        journey_checks(page, "coach-desk-other-tenant", elsewhere)
        assert status_of(page, f"{origin}/coach/spaces/{here.space_id}") == 404
        assert status_of(page, f"{origin}/coach/spaces/{there.space_id}") == 200


def space_status(s: sch.Stubs, space: spb.Space, who: Session) -> int:
    return int(
        s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=who.metadata).status
    )


def test_a_coach_activates_pauses_resumes_completes_and_archives_a_space(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    second_member, _second = add_person(deployment, api, team, ipb.COACHEE, "second-coachee")
    draft = s.spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=team.coachee_member,
                coach_member_id=team.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=6,
                start_date="2027-01-04",
            ),
        ),
        metadata=team.coach.metadata,
    )
    url = f"{origin}/coach/spaces/{draft.space_id}"

    def moves_offered() -> list[str]:
        return sorted(
            (b.get_attribute("id") or "").removeprefix("move-")
            for b in page.locator("#lifecycle ~ .moves button").all()
        )

    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.coach))
        page.wait_for_url(f"{origin}/desk")
        page.goto(url)
        assert page.inner_text("#space-status") == "Draft"
        assert moves_offered() == ["activate", "archive"]

        page.click("#move-activate")
        page.wait_for_url(f"{url}?done=activate#lifecycle")
        assert page.inner_text("#space-status") == "Active"
        assert "The space is active" in page.inner_text("#done")
        assert space_status(s, draft, team.coach) == spb.SPACE_ACTIVE
        assert moves_offered() == ["complete", "pause"]
        journey_checks(page, "coach-space-lifecycle", elsewhere)

        # Refused: the coachee paused the space meanwhile; the page says why and shows it now.
        s.spaces.PauseSpace(spb.SpaceMoveRequest(name=draft.name), metadata=team.coachee.metadata)
        with page.expect_navigation() as refused:
            page.click("#move-pause")
        assert refused.value is not None and refused.value.status == 409
        assert page.inner_text("#error") == (
            "The space's status does not allow this change: it may have changed meanwhile. "
            "Look at the space as it is now."
        )
        assert page.inner_text("#space-status") == "Paused"
        assert moves_offered() == ["resume"]
        assert space_status(s, draft, team.coach) == spb.SPACE_PAUSED

        page.click("#move-resume")
        page.wait_for_url(f"{url}?done=resume#lifecycle")
        assert page.inner_text("#space-status") == "Active"
        assert space_status(s, draft, team.coach) == spb.SPACE_ACTIVE
        page.click("#move-pause")
        page.wait_for_url(f"{url}?done=pause#lifecycle")
        assert page.inner_text("#space-status") == "Paused"
        assert space_status(s, draft, team.coach) == spb.SPACE_PAUSED
        page.click("#move-resume")
        page.wait_for_url(f"{url}?done=resume#lifecycle")

        # Completing asks first; keeping the space as it is changes nothing.
        page.click("#move-complete")
        page.wait_for_url(f"{url}/moves/complete")
        assert page.inner_text("h1") == "Complete the coaching?"
        assert "cannot be activated again" in page.inner_text("#consequence")
        journey_checks(page, "coach-space-complete-confirm", elsewhere)
        page.click("#keep")
        page.wait_for_url(f"{url}#lifecycle")
        assert space_status(s, draft, team.coach) == spb.SPACE_ACTIVE
        page.click("#move-complete")
        page.wait_for_url(f"{url}/moves/complete")
        page.click("#confirm-complete")
        page.wait_for_url(f"{url}?done=complete#lifecycle")
        assert page.inner_text("#space-status") == "Completed"
        assert space_status(s, draft, team.coach) == spb.SPACE_COMPLETED
        assert moves_offered() == ["archive"]

        # Without the confirmation, nothing is archived: the page asks again.
        assert post_status(page, f"{url}/moves/archive") == 200
        assert space_status(s, draft, team.coach) == spb.SPACE_COMPLETED
        page.click("#move-archive")
        page.wait_for_url(f"{url}/moves/archive")
        assert page.inner_text("h1") == "Archive the space?"
        page.click("#confirm-archive")
        page.wait_for_url(f"{url}?done=archive#lifecycle")
        assert page.inner_text("#space-status") == "Archived"
        assert page.is_visible("#no-move") and moves_offered() == []
        assert space_status(s, draft, team.coach) == spb.SPACE_ARCHIVED
        # A move the space no longer allows, forced: refused, nothing changes.
        assert post_status(page, f"{url}/moves/activate") == 409
        assert space_status(s, draft, team.coach) == spb.SPACE_ARCHIVED

    # Without script, in French: a draft archived through its confirmation page.
    other = s.spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=second_member,
                coach_member_id=team.coach_member,
                cadence=spb.MONTHLY,
                sessions_planned=3,
                start_date="2027-01-04",
            ),
        ),
        metadata=team.coach.metadata,
    )
    other_url = f"{origin}/coach/spaces/{other.space_id}"
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coach.metadata,
    )
    with browsing(browser, origin, java_script_enabled=False) as (
        _,
        page,
        elsewhere,
    ):
        sign_in(page, origin, email_of(api, team.coach))
        page.wait_for_url(f"{origin}/desk")
        page.goto(other_url)
        assert page.inner_text("#space-status") == "Brouillon"
        page.click("#move-archive")
        page.wait_for_url(f"{other_url}/moves/archive")
        assert page.inner_text("h1") == "Archiver l'espace ?"
        page.click("#confirm-archive")
        page.wait_for_url(f"{other_url}?done=archive#lifecycle")
        assert page.inner_text("#space-status") == "Archivé"
        assert elsewhere == []
    assert space_status(s, other, team.coach) == spb.SPACE_ARCHIVED


def test_a_coach_adds_and_removes_an_availability_exception(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_time_zone(api, team.coach, "Europe/Paris")
    sch.set_availability(s, team.coach, sch.around_the_clock("Europe/Paris"))
    space = open_space(s, team, team.coachee_member, bookable=True)
    day = (datetime.now(PARIS) + timedelta(days=3)).date()
    coach_email = email_of(api, team.coach)

    def starts() -> set[str]:
        """The coachee's bookable starts that day, as Paris wall times (HH:MM)."""
        slots = s.availability.ListBookableSlots(
            schpb.ListBookableSlotsRequest(
                parent=space.name,
                start_date=day.isoformat(),
                end_date=day.isoformat(),
                minutes=60,
                time_zone="Europe/Paris",
            ),
            metadata=team.coachee.metadata,
        ).slots
        return {slot.local_start[11:16] for slot in slots if slot.local_start[:10] == str(day)}

    def exceptions() -> list[tuple[str, int, str, str]]:
        found = s.availability.GetMyAvailability(
            schpb.GetMyAvailabilityRequest(), metadata=team.coach.metadata
        ).exceptions
        return [(e.date, e.kind, e.start_time, e.end_time) for e in found]

    assert {"09:00", "10:00", "11:00", "12:00"} <= starts()
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, coach_email)
        page.wait_for_url(f"{origin}/desk")
        page.goto(f"{origin}/coach/availability")
        assert page.is_visible("#no-exception")
        assert "Europe/Paris" in page.inner_text("#exceptions ~ p")

        # Bad input: each problem beside its field, nothing saved.
        yesterday = (datetime.now(PARIS) - timedelta(days=1)).date().isoformat()
        for fields, field, problem in (
            ({"date": ""}, "date", "Give the date."),
            (
                {"date": yesterday},
                "date",
                "This date has passed: choose today or a later day.",
            ),
            (
                {"start": "9h", "end": "12:00"},
                "start",
                "Write the times as HH:MM (24:00 for the end of the day).",
            ),
            ({"start": "12:00", "end": "09:00"}, "end", "The end must come after the start."),
            ({"start": "09:00", "end": ""}, "end", "Give both a start and an end."),
            (
                {"kind": "extra", "start": "", "end": ""},
                "start",
                "Give the extra hours: a start and an end.",
            ),
        ):
            typed = {"date": day.isoformat(), "kind": "day_off", "start": "", "end": ""}
            typed.update(fields)
            page.fill("#exception_date", typed["date"])
            page.check(f"#exception_kind-{typed['kind']}")
            page.fill("#exception_start", typed["start"])
            page.fill("#exception_end", typed["end"])
            with page.expect_navigation() as answer:
                page.click("#add-exception")
            assert answer.value is not None and answer.value.status == 400
            assert page.inner_text(f"#exception_{field}-error") == problem
            assert page.get_attribute(f"#exception_{field}", "aria-invalid") == "true"
            assert exceptions() == []
        journey_checks(page, "coach-availability-exception-error", elsewhere)

        # A morning off: its slots are no longer offered to the coachee.
        page.fill("#exception_date", day.isoformat())
        page.check("#exception_kind-day_off")
        page.fill("#exception_start", "09:00")
        page.fill("#exception_end", "12:00")
        page.click("#add-exception")
        page.wait_for_url(f"{origin}/coach/availability?done=exception#exceptions")
        [row] = page.locator(".exception").all()
        assert "Not available, from 09:00 to 12:00" in row.inner_text()
        assert exceptions() == [(day.isoformat(), schpb.DAY_OFF, "09:00", "12:00")]
        offered = starts()
        assert not {"09:00", "10:00", "11:00"} & offered and "12:00" in offered
        journey_checks(page, "coach-availability-exceptions", elsewhere)
        # The same again is refused; saving the weekly hours keeps it.
        page.fill("#exception_date", day.isoformat())
        page.fill("#exception_start", "09:00")
        page.fill("#exception_end", "12:00")
        page.click("#add-exception")
        assert page.inner_text("#exception_date-error") == "This exception is already in your list."
        page.click("#save-availability")
        page.wait_for_url(f"{origin}/coach/availability?done=availability")
        assert len(exceptions()) == 1

        page.click("#remove-exception-1")
        page.wait_for_url(f"{origin}/coach/availability?done=exception-removed#exceptions")
        assert page.is_visible("#no-exception")
        assert exceptions() == []
        assert {"09:00", "10:00", "11:00"} <= starts()
        # An exception the coach does not have: not found, nothing changes.
        gone = f"{day.isoformat()}.{schpb.DAY_OFF}.09:00.12:00"
        assert (
            post_status(page, f"{origin}/coach/availability/exceptions/remove", exception=gone)
            == 404
        )

    # In French: the problems in French, beside their field.
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coach.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, coach_email)
        page.wait_for_url(f"{origin}/desk")
        page.goto(f"{origin}/coach/availability")
        page.fill("#exception_date", yesterday)
        page.fill("#exception_start", "12:00")
        page.fill("#exception_end", "09:00")
        page.click("#add-exception")
        page.wait_for_selector("#exception_date-error")
        assert page.inner_text("#exception_date-error") == (
            "Cette date est passée : choisissez aujourd'hui ou un jour suivant."
        )
        assert page.inner_text("#exception_end-error") == "La fin doit venir après le début."
        journey_checks(page, "coach-availability-exception-error-fr", elsewhere)
    assert exceptions() == []
