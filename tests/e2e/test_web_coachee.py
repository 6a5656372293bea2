"""The coachee's space in a real browser (Debian's chromium driven by Playwright), from sign-in:
the space with their coach's name, the sessions used and left and a goal's progress chart;
notes written with a preview (htmx, and without script), read by the coach and shown so;
sessions booked, moved, refused a move under the policy (its reason shown), cancelled and
joined; reminders (a field error beside the field, in French), the calendar feed, the profile,
the data export and erasure; goals added, changed (errors beside the field, in French too) and
archived; a proposed co-coach declined and a proposed coach accepted, then the earlier content
shared with them; the coaching paused and resumed after a confirmation page. Another coachee's
or tenant's space, goal, note and session ids give 404 and change nothing.

Every journey keeps screenshots at desktop and phone widths (var/artefacts/screenshots/), runs
the accessibility audit and checks that no request left the web app's origin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from google.protobuf.field_mask_pb2 import FieldMask
from playwright.sync_api import Browser, Page

from ecoach_dev.demo_space import DEMO_GOAL, DEMO_PROJECT, seed_demo_space
from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc as spb_grpc
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import email_of, journey_checks, open_space, sign_in

PARIS = ZoneInfo("Europe/Paris")


def signed_in_page(page: Page, origin: str, api: Api, who: Session) -> None:
    sign_in(page, origin, email_of(api, who))
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


def sessions_of(s: sch.Stubs, space: spb.Space, who: Session) -> list[pb.Session]:
    return [x for x in sch.space_sessions(s, space.name, who) if x.status == pb.SESSION_BOOKED]


def pick_day(page: Page, day: datetime) -> None:
    page.fill("#date", day.date().isoformat())
    page.click("#show-day")
    page.wait_for_selector("#first-slot")


def test_a_coachees_journey_through_their_space(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_time_zone(api, team.coachee, "Europe/Paris")
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = open_space(s, team, team.coachee_member, bookable=True, project="Lead the Lyon team")
    goals = spb_grpc.GoalServiceStub(api.channel)
    created = goals.CreateGoal(
        spb.CreateGoalRequest(parent=space.name, goal=spb.Goal(title="Speak up", progress=20)),
        metadata=team.coachee.metadata,
    )
    goals.UpdateGoal(
        spb.UpdateGoalRequest(
            goal=spb.Goal(name=created.name, progress=60), update_mask=FieldMask(paths=["progress"])
        ),
        metadata=team.coachee.metadata,
    )
    s.notes.CreateNote(
        spb.CreateNoteRequest(
            parent=space.name, note=spb.Note(kind=spb.SHARED, body="From your *coach*")
        ),
        metadata=team.coach.metadata,
    )
    # A session starting in a few minutes: its room is open, and it is too late to move it.
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=6)
    soon_session = sch.book(s, space.name, team.coachee, soon)
    # One 36 hours ahead: between the policy's thresholds (48 h, 24 h), a move asks the coach.
    asking = sch.book(s, space.name, team.coachee, sch.hour_from_now(36))

    with browsing(browser, origin) as (context, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        assert page.url == f"{origin}/my-space"
        page.click(f"a[href='/spaces/{space.space_id}']")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}")
        wait_for(  # the dashboard learns the coach's name and the engagement in a moment
            lambda: (
                page.reload() and page.is_visible("#engagement") and page.is_visible("#coach-name")
            ),
            15,
            "the coach's name and the engagement",
        )
        assert page.inner_text("#coach-name") == "Coach"
        assert page.inner_text("#engagement") == "2 used of 10, 8 left"
        chart = page.locator(".chart svg")
        assert chart.count() == 1 and chart.get_attribute("role") == "img"
        assert page.locator(".chart circle").count() == 2  # created at 20, then 60
        assert page.locator(".history tbody tr").count() == 2
        assert page.is_visible(f"#join-{soon_session.session_id}")
        journey_checks(page, "coachee-space-overview", elsewhere)

        # Notes: the coach's shared note; a new one previewed (htmx), saved, then read by the coach.
        page.click("#to-notes")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/notes")
        assert "From your coach" in page.inner_text("main")
        page.click("#new-note")
        page.fill("#body", "My **first** note\n\n- listen\n- <script>x</script>")
        page.click("#preview")
        page.wait_for_selector("#preview-body strong")
        assert page.inner_text("#preview-body strong") == "first"
        assert page.locator("#preview-body script").count() == 0
        assert page.url.endswith("/notes/new")  # htmx: the form stays as it is
        journey_checks(page, "coachee-note-editor", elsewhere)
        page.click("#save")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/notes?done=saved")
        mine = [
            n
            for n in s.notes.ListNotes(
                spb.ListNotesRequest(parent=space.name), metadata=team.coach.metadata
            ).notes
            if n.author_person_id == team.coachee.person_id
        ]
        assert len(mine) == 1  # the coach opens it (ListNotes logs the read)
        note_id = mine[0].note_id

        def coach_read_shown() -> bool:
            page.goto(f"{origin}/spaces/{space.space_id}/notes")
            return "Coach ·" in page.inner_text(f"#note-{note_id} .reads")

        wait_for(coach_read_shown, 15, "the coach's read beside the note")
        assert page.inner_text(f"#note-{note_id} .markdown strong") == "first"
        journey_checks(page, "coachee-notes", elsewhere)
        page.click(f"#edit-{note_id}")
        page.fill("#body", "My first note, edited")
        page.click("#save")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/notes?done=saved")
        assert "edited" in page.inner_text(f"#note-{note_id}")

        # Sessions: book one in six days, move it a day later, fail to move the soon one
        # (the policy's reason shown), cancel the booked one.
        page.goto(f"{origin}/spaces/{space.space_id}/sessions")
        page.click("#book-link")
        in_six_days = datetime.now(PARIS) + timedelta(days=6)
        pick_day(page, in_six_days)
        journey_checks(page, "coachee-book", elsewhere)
        page.check("#first-slot")
        page.click("#choose-slot")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/sessions?done=booked")
        booked = [
            x
            for x in sessions_of(s, space, team.coachee)
            if x.name not in (soon_session.name, asking.name)
        ]
        assert len(booked) == 1
        assert sch.dt(booked[0].start_time).astimezone(PARIS).date() == in_six_days.date()
        assert page.is_visible(f"#session-{booked[0].session_id}")
        assert not page.is_visible(f"#join-{booked[0].session_id}")  # its room is not open
        journey_checks(page, "coachee-sessions", elsewhere)

        page.click(f"#move-{booked[0].session_id}")
        pick_day(page, in_six_days + timedelta(days=1))
        page.check("#first-slot")
        page.click("#choose-slot")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/sessions?done=moved")
        moved = s.sessions.GetSession(
            pb.GetSessionRequest(name=booked[0].name), metadata=team.coachee.metadata
        )
        assert (
            sch.dt(moved.start_time).astimezone(PARIS).date()
            == (in_six_days + timedelta(days=1)).date()
        )

        page.click(f"#move-{soon_session.session_id}")
        pick_day(page, in_six_days)
        page.check("#first-slot")
        page.click("#choose-slot")
        assert page.is_visible("#error")  # under the request window: cancel only
        refusal = page.inner_text("#error")
        assert "cancel" in refusal.lower(), refusal
        journey_checks(page, "coachee-move-refused", elsewhere)
        still = s.sessions.GetSession(
            pb.GetSessionRequest(name=soon_session.name), metadata=team.coachee.metadata
        )
        assert still.start_time == soon_session.start_time  # nothing changed

        # Between the thresholds: a request to the coach, and the page says so.
        page.goto(f"{origin}/spaces/{space.space_id}/sessions/{asking.session_id}/move")
        pick_day(page, in_six_days + timedelta(days=2))
        page.check("#first-slot")
        page.click("#choose-slot")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/sessions?done=requested")
        assert "your coach is asked" in page.inner_text("#done")
        waiting = s.sessions.GetSession(
            pb.GetSessionRequest(name=asking.name), metadata=team.coachee.metadata
        )
        assert waiting.pending_request and waiting.start_time == asking.start_time

        # The room of a session days ahead is not open: the reason, no way in.
        not_yet = page.goto(
            f"{origin}/spaces/{space.space_id}/sessions/{booked[0].session_id}/join"
        )
        assert not_yet is not None and not_yet.status == 400
        assert "not open yet" in page.inner_text("#error")
        join = context.request.get(
            f"{origin}/spaces/{space.space_id}/sessions/{soon_session.session_id}/join",
            max_redirects=0,
        )
        assert join.status == 302 and join.headers["location"].startswith("https://")

        page.goto(f"{origin}/spaces/{space.space_id}/sessions")
        page.click(f"#cancel-{booked[0].session_id}")
        journey_checks(page, "coachee-cancel", elsewhere)
        page.click("#confirm-cancel")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/sessions?done=cancelled")
        assert {x.name for x in sessions_of(s, space, team.coachee)} == {
            soon_session.name,
            asking.name,
        }

        # Reminders and the calendar feed.
        page.click("#nav-calendar")
        page.wait_for_url(f"{origin}/me/calendar")
        for minutes in ("1440", "60"):
            page.uncheck(f"#reminder-{minutes}")
        page.check("#reminder-15")
        page.check("#reminder-2880")
        page.click("#save-calendar")
        page.wait_for_url(f"{origin}/me/calendar?done=saved")
        settings = s.calendar.GetMyCalendarSettings(
            pb.GetMyCalendarSettingsRequest(), metadata=team.coachee.metadata
        )
        assert sorted(settings.reminder_minutes) == [15, 2880]
        page.click("#create-feed")
        feed_url = page.inner_text("#feed-url")
        assert feed_url.startswith("http") and feed_url.endswith(".ics")
        journey_checks(page, "coachee-calendar", elsewhere)
        page.goto(f"{origin}/me/calendar")
        assert page.locator("#feed-url").count() == 0 and page.is_visible("#feed-since")
        page.click("#delete-feed")
        page.wait_for_url(f"{origin}/me/calendar?done=feed-deleted")
        assert not s.calendar.GetMyCalendarSettings(
            pb.GetMyCalendarSettingsRequest(), metadata=team.coachee.metadata
        ).HasField("feed_create_time")
        page.click("#create-feed")
        new_feed = page.inner_text("#feed-url")
        assert new_feed != feed_url
        served = context.request.get(f"{origin}{urlsplit(new_feed).path}")
        assert served.status == 200 and served.text().startswith("BEGIN:VCALENDAR")
        assert context.request.get(f"{origin}{urlsplit(feed_url).path}").status == 404

        # The data export: one JSON file.
        page.click("#nav-data")
        journey_checks(page, "coachee-data", elsewhere)
        with page.expect_download() as download:
            page.click("#export")
        exported = json.loads(Path(download.value.path()).read_text())
        services = {d["service"] for d in exported["documents"]}
        assert "identity" in services, services

        # The profile: name, language, time zone; the pages follow.
        page.click("#nav-profile")
        page.wait_for_url(f"{origin}/me/profile")
        page.fill("#display_name", "Noah M.")
        page.select_option("#locale", "fr")
        page.select_option("#time_zone", "Asia/Tokyo")
        page.click("#save-profile")
        page.wait_for_url(f"{origin}/me/profile?done=saved")
        assert page.inner_text("h1") == "Mon profil"
        assert "Noah M." in page.inner_text("#who")
        journey_checks(page, "coachee-profile-fr", elsewhere)
        person = api.auth.GetMe(ipb.GetMeRequest(), metadata=team.coachee.metadata).person
        assert (person.display_name, person.locale, person.time_zone) == (
            "Noah M.",
            "fr",
            "Asia/Tokyo",
        )

        # Five reminders are one too many: the service's reason beside the field, in French.
        page.goto(f"{origin}/me/calendar")
        for minutes in ("15", "60", "180", "1440", "2880"):
            page.check(f"#reminder-{minutes}")
        page.click("#save-calendar")
        assert page.get_attribute("html", "lang") == "fr"
        assert page.is_visible("#reminder_minutes-error")
        assert page.get_attribute("fieldset[aria-invalid=true]", "aria-describedby") == (
            "reminder_minutes-error"
        )
        journey_checks(page, "coachee-reminders-error-fr", elsewhere)
        unchanged = s.calendar.GetMyCalendarSettings(
            pb.GetMyCalendarSettingsRequest(), metadata=team.coachee.metadata
        )
        assert sorted(unchanged.reminder_minutes) == [15, 2880]

        # Times follow the new time zone.
        page.goto(f"{origin}/spaces/{space.space_id}/sessions")
        tokyo = sch.dt(soon_session.start_time).astimezone(ZoneInfo("Asia/Tokyo"))
        assert tokyo.strftime("%H:%M") in page.inner_text(f"#session-{soon_session.session_id}")


def test_the_preview_and_the_journal_work_without_script(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member, project="No script")
    with browsing(browser, origin, java_script_enabled=False) as (_, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        page.goto(f"{origin}/spaces/{space.space_id}/notes/new")
        page.check("#kind-journal")
        page.fill("#body", "Only *mine*")
        page.click("#preview")  # a plain form post: the page comes back with the preview
        page.wait_for_selector("#preview-body em")
        assert page.input_value("#body") == "Only *mine*"
        assert page.is_checked("#kind-journal")
        page.click("#save")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/notes?done=saved")
        journal = s.notes.ListNotes(
            spb.ListNotesRequest(parent=space.name), metadata=team.coachee.metadata
        ).notes
        assert [(n.kind, n.body) for n in journal] == [(spb.JOURNAL, "Only *mine*")]
        assert "Journal" in page.inner_text(f"#note-{journal[0].note_id}")
        # The coach never sees the journal.
        assert not s.notes.ListNotes(
            spb.ListNotesRequest(parent=space.name), metadata=team.coach.metadata
        ).notes
        # A body the contracts refuse (a NUL character): the reason beside the field, nothing kept.
        token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
        refused = page.request.post(
            f"{origin}/spaces/{space.space_id}/notes/new",
            form={"csrf_token": token, "kind": "SHARED", "body": "bad\x00body"},
        )
        assert refused.status == 400
        assert 'id="body-error"' in refused.text() and 'aria-invalid="true"' in refused.text()
        unknown_kind = page.request.post(
            f"{origin}/spaces/{space.space_id}/notes/new",
            form={"csrf_token": token, "kind": "COACH_PRIVATE", "body": "not mine to write"},
        )
        assert unknown_kind.status == 400 and 'id="kind-error"' in unknown_kind.text()
        forged = page.request.post(
            f"{origin}/spaces/{space.space_id}/notes/new",
            form={"csrf_token": "forged", "kind": "SHARED", "body": "forged"},
        )
        assert forged.status == 400
        assert (
            len(
                s.notes.ListNotes(
                    spb.ListNotesRequest(parent=space.name), metadata=team.coachee.metadata
                ).notes
            )
            == 1
        )
        page.click(f"#delete-{journal[0].note_id}")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/notes?done=deleted")
        assert page.is_visible("#no-note")
        assert elsewhere == []


def test_another_coachees_space_note_and_session_are_not_found(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    other_member, other = add_person(deployment, api, team, ipb.COACHEE, "other-coachee")
    mine = open_space(s, team, team.coachee_member, bookable=True, project="Mine")
    theirs = open_space(s, team, other_member, bookable=True, project="Not yours")
    their_note = s.notes.CreateNote(
        spb.CreateNoteRequest(parent=theirs.name, note=spb.Note(kind=spb.SHARED, body="Secret")),
        metadata=other.metadata,
    )
    their_session = sch.book(s, theirs.name, other, sch.hour_from_now(100))
    my_session = sch.book(s, mine.name, team.coachee, sch.hour_from_now(120))
    elsewhere_team = make_tenant(deployment, api, operator)
    foreign = open_space(s, elsewhere_team, elsewhere_team.coachee_member, project="Foreign")

    def paths(space_id: str, note_id: str, session_id: str) -> list[str]:
        return [
            f"/spaces/{space_id}",
            f"/spaces/{space_id}/notes",
            f"/spaces/{space_id}/notes/new",
            f"/spaces/{space_id}/notes/{note_id}/edit",
            f"/spaces/{space_id}/sessions",
            f"/spaces/{space_id}/sessions/book",
            f"/spaces/{space_id}/sessions/{session_id}/move",
            f"/spaces/{space_id}/sessions/{session_id}/cancel",
            f"/spaces/{space_id}/sessions/{session_id}/join",
        ]

    refused = [
        *paths(theirs.space_id, their_note.note_id, their_session.session_id),
        *paths(foreign.space_id, their_note.note_id, their_session.session_id),
        # Their note and session under my own space's id.
        f"/spaces/{mine.space_id}/notes/{their_note.note_id}/edit",
        f"/spaces/{mine.space_id}/sessions/{their_session.session_id}/move",
        f"/spaces/{mine.space_id}/sessions/{their_session.session_id}/cancel",
        f"/spaces/{mine.space_id}/sessions/{their_session.session_id}/join",
        f"/spaces/{mine.space_id}/notes/not-an-id/edit",
    ]
    with browsing(browser, origin) as (context, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        for path in refused:
            answer = page.goto(f"{origin}{path}")
            assert answer is not None and answer.status == 404, path
            assert "Secret" not in page.content() and "Not yours" not in page.content()
        csrf = page.get_attribute("body", "hx-headers") or ""
        token = json.loads(csrf)["X-CSRF-Token"]
        for path in (
            f"/spaces/{mine.space_id}/notes/{their_note.note_id}/delete",
            f"/spaces/{theirs.space_id}/notes/{their_note.note_id}/delete",
            f"/spaces/{mine.space_id}/sessions/{their_session.session_id}/cancel",
            f"/spaces/{theirs.space_id}/sessions/{their_session.session_id}/cancel",
            f"/spaces/{theirs.space_id}/notes/preview",
            f"/spaces/{theirs.space_id}/notes/new",
            f"/spaces/{theirs.space_id}/sessions/book",
        ):
            posted = context.request.post(
                f"{origin}{path}", form={"csrf_token": token}, max_redirects=0
            )
            assert posted.status == 404, path
        assert elsewhere == []
    # Nothing of theirs changed.
    assert (
        s.notes.GetNote(spb.GetNoteRequest(name=their_note.name), metadata=other.metadata).body
        == "Secret"
    )
    assert sessions_of(s, theirs, other)[0].name == their_session.name
    # Their coach (and HR) have no coachee pages of this space either.
    for who in (team.coach, team.admin):
        with browsing(browser, origin) as (_, page, _elsewhere):
            signed_in_page(page, origin, api, who)
            for path in paths(mine.space_id, their_note.note_id, my_session.session_id):
                answer = page.goto(f"{origin}{path}")
                assert answer is not None and answer.status == 404, (who, path)


def test_a_coachee_erases_their_data_confirming_with_their_password(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        page.goto(f"{origin}/me/data")
        page.check("#confirm")
        page.fill("#current_password", "not the password at all")
        page.click("#erase")
        assert page.is_visible("#current_password-error")  # beside the field; nothing done
        assert page.get_attribute("#current_password", "aria-invalid") == "true"
        journey_checks(page, "coachee-erase-wrong-password", elsewhere)
        api.auth.GetMe(ipb.GetMeRequest(), metadata=team.coachee.metadata)  # still there
        page.check("#confirm")
        page.fill("#current_password", PASSWORD)
        page.click("#erase")
        page.wait_for_selector("#receipt")
        receipt = page.inner_text("#receipt")
        assert receipt.startswith("er1.")
        status = api.auth.GetErasureStatus(ipb.GetErasureStatusRequest(receipt=receipt))
        assert status.requested_by == "person"
        page.goto(f"{origin}/my-space")
        assert page.url == f"{origin}/sign-in"  # signed out


def test_the_demo_space_is_made_once_for_the_demo_coachee(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team: TenantWorld = make_tenant(deployment, api, operator)
    coach, coachee = (email_of(api, team.coach), PASSWORD), (email_of(api, team.coachee), PASSWORD)
    channel = deployment.channel()
    try:
        assert seed_demo_space(channel, team.tenant_id, coach, coachee, timeout=60) is True
        assert seed_demo_space(channel, team.tenant_id, coach, coachee, timeout=60) is False
    finally:
        channel.close()
    board = s.dashboards.GetCoacheeDashboard(
        spb.GetCoacheeDashboardRequest(parent=f"tenants/{team.tenant_id}"),
        metadata=team.coachee.metadata,
    )
    assert len(board.spaces) == 1
    card = board.spaces[0]
    assert card.space.content.project == DEMO_PROJECT
    assert [g.title for g in card.goals] == [DEMO_GOAL]
    assert len(card.latest_notes) == 1 and len(card.next_sessions) == 1
    # The coachee reads it in the browser: the note's Markdown rendered (as the service
    # sanitised it), on their home page and their space's page alike.
    with browsing(browser, origin) as (_, page, _elsewhere):
        sign_in(page, origin, coachee[0])
        page.wait_for_url(f"{origin}/my-space")
        for path in ("/my-space", f"/spaces/{card.space.space_id}"):
            page.goto(f"{origin}{path}")
            assert page.inner_text(".notes strong") == "one situation", path
            assert "**" not in page.inner_text(".notes"), path


def goal_service(api: Api) -> spb_grpc.GoalServiceStub:
    return spb_grpc.GoalServiceStub(api.channel)


def give_admin_the_coach_role(api: Api, operator: Session, team: TenantWorld) -> Session:
    """HR with the coach role too (given by the operator: nobody changes their own roles), signed
    in again for a token with the new roles: as coach they are only ever proposed (ADR 0006)."""
    admin_email = email_of(api, team.admin)
    api.members.UpdateMember(
        ipb.UpdateMemberRequest(
            member=ipb.Member(
                name=member_name(team.tenant_id, team.admin_member),
                roles=[ipb.TENANT_ADMIN, ipb.COACH],
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        metadata=operator.metadata,
    )
    return api.sign_in(admin_email, PASSWORD, team.tenant_id)


def test_a_coachee_writes_goals_answers_coach_changes_shares_and_pauses_their_coaching(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member, project="Lead the Lyon team")
    admin = give_admin_the_coach_role(api, operator, team)
    # HR proposes itself as co-coach: the coachee must agree.
    s.spaces.ChangeCoCoach(
        spb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=team.admin_member),
        metadata=admin.metadata,
    )

    with browsing(browser, origin) as (_context, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        page.goto(f"{origin}/spaces/{space.space_id}")
        assert page.inner_text("#space-status") == "Running"

        # A new goal: refused fields are said beside them, then it is saved.
        page.click("#new-goal")
        page.fill("#goal-title", " ")
        page.fill("#goal-progress", "130")
        page.click("#add-goal")
        page.wait_for_selector("#progress-error")
        assert page.inner_text("#title-error") == "Give the goal a title."
        assert page.inner_text("#progress-error") == "Write a progress from 0 to 100."
        assert page.get_attribute("#goal-progress", "aria-invalid") == "true"
        page.fill("#goal-title", "Speak up in meetings")
        page.fill("#goal-progress", "20")
        page.click("#add-goal")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=goal#goals-heading")
        [goal] = (
            goal_service(api)
            .ListGoals(spb.ListGoalsRequest(parent=space.name), metadata=team.coach.metadata)
            .goals
        )
        assert (goal.title, goal.progress, goal.creator_person_id) == (
            "Speak up in meetings",
            20,
            team.coachee.person_id,
        )
        # Its progress, then its title, changed; full progress achieves it.
        page.click(f"#change-{goal.goal_id}")
        page.fill(f"#progress-{goal.goal_id}", "-5")
        page.click(f"#save-{goal.goal_id}")
        page.wait_for_selector("#progress-error")
        assert page.inner_text("#progress-error") == "Write a progress from 0 to 100."
        page.fill(f"#progress-{goal.goal_id}", "100")
        page.fill(f"#title-{goal.goal_id}", "Speak up in every meeting")
        page.click(f"#save-{goal.goal_id}")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=goal#goal-{goal.goal_id}")
        assert page.inner_text("#done") == "The goal is saved."
        assert page.inner_text(f"#goal-{goal.goal_id}") == "Speak up in every meeting"
        assert "Achieved" in page.inner_text(".goal")
        assert page.locator(".chart circle").count() == 2  # 20, then 100
        seen = goal_service(api).GetGoal(
            spb.GetGoalRequest(name=goal.name), metadata=team.coach.metadata
        )
        assert (seen.progress, seen.status) == (100, spb.GOAL_ACHIEVED)

        # The proposed co-coach: declined, and nothing changes.
        assert "A new co-coach is proposed to you" in page.inner_text("#coach-proposal")
        journey_checks(page, "coachee-space-coach-proposal", elsewhere)
        page.click("#decline-change")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=declined")
        assert page.locator("#coach-proposal").count() == 0
        after = s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=admin.metadata)
        assert not after.HasField("pending_coach_change")
        assert after.set_up.co_coach_member_id == ""

        # HR proposes itself as coach: accepted, it takes the seat, and sees nothing written
        # before until the coachee shares it.
        s.spaces.ChangeCoach(
            spb.ChangeCoachRequest(name=space.name, coach_member_id=team.admin_member),
            metadata=admin.metadata,
        )
        page.goto(f"{origin}/spaces/{space.space_id}")
        assert "A new coach is proposed to you" in page.inner_text("#coach-proposal")
        assert page.locator("#share-earlier").count() == 0
        page.click("#accept-change")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=accepted")
        assert page.locator("#coach-proposal").count() == 0
        as_coach = s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=admin.metadata)
        assert as_coach.relation == spb.AS_COACH and as_coach.earlier_content_hidden
        assert "before they came" in page.inner_text("#share-earlier")
        journey_checks(page, "coachee-space-share-earlier", elsewhere)
        page.click("#share-earlier-content")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=shared")
        assert page.locator("#share-earlier").count() == 0
        shared = s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=admin.metadata)
        assert not shared.earlier_content_hidden
        assert shared.content.project == "Lead the Lyon team"

        # Pause, with a confirmation page; going back changes nothing; then resume.
        page.click("#pause-link")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/pause")
        assert "cancelled" in page.inner_text("#move-explained")
        journey_checks(page, "coachee-space-pause", elsewhere)
        page.click("#keep-as-is")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}")
        assert page.inner_text("#space-status") == "Running"
        page.click("#pause-link")
        page.click("#confirm-move")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=paused")
        assert page.inner_text("#space-status") == "Paused"
        assert page.locator("#book-link").count() == 0
        paused = s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=admin.metadata)
        assert paused.status == spb.SPACE_PAUSED
        journey_checks(page, "coachee-space-paused", elsewhere)
        page.click("#resume-link")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/resume")
        page.click("#confirm-move")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=resumed")
        assert page.inner_text("#space-status") == "Running"
        resumed = s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=admin.metadata)
        assert resumed.status == spb.SPACE_ACTIVE

        # Archived, the goal leaves the list of goals to work on.
        page.click(f"#change-{goal.goal_id}")
        page.click(f"#archive-{goal.goal_id}")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}?done=archived#goals-heading")
        assert page.inner_text("#archived-goals") == "Speak up in every meeting"
        assert page.locator(f"#change-{goal.goal_id}").count() == 0

    # In French, for a coachee whose language is French: a field's error beside it, the status,
    # the confirmation page.
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coachee.metadata,
    )
    with browsing(browser, origin) as (_context, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        page.goto(f"{origin}/spaces/{space.space_id}")
        assert page.inner_text("#space-status") == "En cours"
        page.click("#new-goal")
        page.fill("#goal-title", "Dire non")
        page.fill("#goal-progress", "101")
        page.click("#add-goal")
        page.wait_for_selector("#progress-error")
        assert page.inner_text("#progress-error") == "Indiquez un avancement de 0 à 100."
        assert page.input_value("#goal-title") == "Dire non"  # kept as typed
        journey_checks(page, "coachee-space-goal-error-fr", elsewhere)
        page.click("#pause-link")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}/pause")
        assert page.inner_text("h1") == "Mettre mon accompagnement en pause ?"
        assert "séances réservées sont annulées" in page.inner_text("#move-explained")


def test_another_coachees_or_tenants_ids_in_the_coachees_forms_are_not_found(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    other_member, other = add_person(deployment, api, team, ipb.COACHEE, "other-coachee")
    mine = open_space(s, team, team.coachee_member, project="Mine")
    theirs = open_space(s, team, other_member, project="Not yours")
    their_goal = goal_service(api).CreateGoal(
        spb.CreateGoalRequest(parent=theirs.name, goal=spb.Goal(title="Theirs", progress=10)),
        metadata=other.metadata,
    )
    admin = give_admin_the_coach_role(api, operator, team)
    s.spaces.ChangeCoach(  # a proposal waiting for the other coachee, not for the caller
        spb.ChangeCoachRequest(name=theirs.name, coach_member_id=team.admin_member),
        metadata=admin.metadata,
    )
    elsewhere_team = make_tenant(deployment, api, operator)
    foreign = open_space(s, elsewhere_team, elsewhere_team.coachee_member, project="Foreign")

    def posts(space_id: str, goal_id: str) -> list[tuple[str, dict[str, str]]]:
        goal = {"title": "Taken over", "progress": "90"}
        return [
            (f"/spaces/{space_id}/goals", goal),
            (f"/spaces/{space_id}/goals/{goal_id}", goal),
            (f"/spaces/{space_id}/goals/{goal_id}/archive", {}),
            (f"/spaces/{space_id}/coach-change/accept", {}),
            (f"/spaces/{space_id}/coach-change/decline", {}),
            (f"/spaces/{space_id}/share-earlier-content", {}),
            (f"/spaces/{space_id}/pause", {}),
            (f"/spaces/{space_id}/resume", {}),
        ]

    refused = [
        *posts(theirs.space_id, their_goal.goal_id),
        *posts(foreign.space_id, their_goal.goal_id),
        # Their goal under my own space's id, and what cannot be an id.
        (f"/spaces/{mine.space_id}/goals/{their_goal.goal_id}", {"title": "Mine now"}),
        (f"/spaces/{mine.space_id}/goals/{their_goal.goal_id}/archive", {}),
        (f"/spaces/{mine.space_id}/goals/not-an-id", {"title": "x"}),
        (f"/spaces/{mine.space_id}/coach-change/maybe", {}),
    ]
    with browsing(browser, origin) as (context, page, elsewhere):
        signed_in_page(page, origin, api, team.coachee)
        page.goto(f"{origin}/spaces/{mine.space_id}")
        token = page.get_attribute("input[name=csrf_token]", "value") or ""
        for path, form in refused:
            posted = context.request.post(
                f"{origin}{path}", form={"csrf_token": token, **form}, max_redirects=0
            )
            assert posted.status == 404, path
            assert "Not yours" not in posted.text() and "Theirs" not in posted.text()
        for path in (f"/spaces/{theirs.space_id}/pause", f"/spaces/{foreign.space_id}/resume"):
            answer = page.goto(f"{origin}{path}")
            assert answer is not None and answer.status == 404, path
        # Without the CSRF token, even my own space's forms are refused.
        unsigned = context.request.post(
            f"{origin}/spaces/{mine.space_id}/pause", form={}, max_redirects=0
        )
        assert unsigned.status in (400, 403)
        assert elsewhere == []
    # Nothing of theirs changed, nor my own space.
    kept = goal_service(api).GetGoal(
        spb.GetGoalRequest(name=their_goal.name), metadata=other.metadata
    )
    assert (kept.title, kept.progress, kept.status) == ("Theirs", 10, spb.GOAL_OPEN)
    assert (
        not goal_service(api)
        .ListGoals(spb.ListGoalsRequest(parent=mine.name), metadata=team.coachee.metadata)
        .goals
    )
    their_space = s.spaces.GetSpace(spb.GetSpaceRequest(name=theirs.name), metadata=other.metadata)
    assert their_space.status == spb.SPACE_ACTIVE
    assert their_space.pending_coach_change.proposed_member_id == team.admin_member
    assert their_space.set_up.coach_member_id == team.coach_member
    for space, who in ((mine, team.coachee), (foreign, elsewhere_team.coachee)):
        seen = s.spaces.GetSpace(spb.GetSpaceRequest(name=space.name), metadata=who.metadata)
        assert seen.status == spb.SPACE_ACTIVE
