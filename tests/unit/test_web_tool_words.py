"""The toolbox in words (gateway/web/tool_words.py): why a locked tool is locked, as its coachee
reads it in their language, from `locked_reasons` alone; the rule as its coach set it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask, g

from gateway.api.pb import spaces_pb2 as spb
from gateway.web import tool_words as tw
from gateway.web.app import create_app

SPACE = "tenants/ten_1/spaces/spc_1"
YEAR = date.today().year


@pytest.fixture
def page() -> Iterator[None]:
    with Flask(__name__).test_request_context():
        yield


def reasons(*found: spb.LockReason) -> spb.Tool:
    return spb.Tool(state=spb.TOOL_LOCKED, locked_reasons=list(found))


def test_ordinals_for_a_session_in_english_and_french(page: None) -> None:
    g.language = "en"
    assert [tw.nth(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip
    g.language = "fr"
    assert [tw.nth(n) for n in (1, 2, 10)] == ["1re", "2e", "10e"]


def test_a_coachee_reads_why_in_their_language(page: None) -> None:
    other = f"{SPACE}/tools/tol_2"
    tool = reasons(
        spb.LockReason(kind=spb.LOCK_REASON_AFTER_SESSIONS_HELD, sessions_held=2),
        spb.LockReason(kind=spb.LOCK_REASON_ON_DATE, on_date=f"{YEAR}-03-12"),
        spb.LockReason(kind=spb.LOCK_REASON_AFTER_TOOL_DONE, tool=other),
    )
    labels = {other: "Values card"}
    g.language = "en"
    assert tw.reason_words(tool, labels) == (
        "after your 2nd session, from 12 March, and once “Values card” is done"
    )
    g.language = "fr"
    assert tw.reason_words(tool, labels) == (
        "après votre 2e séance, à partir du 12 mars et une fois « Values card » terminé"
    )


def test_a_date_of_another_year_says_its_year(page: None) -> None:
    g.language = "en"
    tool = reasons(spb.LockReason(kind=spb.LOCK_REASON_ON_DATE, on_date=f"{YEAR + 1}-01-05"))
    assert tw.reason_words(tool, {}) == f"from 5 January {YEAR + 1}"


def test_by_hand_and_locked_by_the_coach_say_the_same_once(page: None) -> None:
    g.language = "en"
    tool = reasons(
        spb.LockReason(kind=spb.LOCK_REASON_BY_HAND),
        spb.LockReason(kind=spb.LOCK_REASON_LOCKED_BY_COACH),
    )
    assert tw.reason_words(tool, {}) == "when your coach opens it"
    g.language = "fr"
    assert tw.reason_words(tool, {}) == "quand votre coach l'ouvrira"


def test_a_tool_the_coachee_cannot_name_is_another_tool(page: None) -> None:
    g.language = "en"
    tool = reasons(spb.LockReason(kind=spb.LOCK_REASON_AFTER_TOOL_DONE, tool=f"{SPACE}/tools/x"))
    assert tw.reason_words(tool, {}) == "once another tool is done"


def test_the_coach_reads_the_rule(page: None) -> None:
    g.language = "en"
    assert tw.rule_words(spb.Tool(), {}) == "at once"
    rule = spb.ToolRule(after_sessions_held=1, by_hand=True)
    assert (
        tw.rule_words(spb.Tool(rule=rule), {}) == "after 1 session held and when a coach opens it"
    )
    g.language = "fr"
    rule = spb.ToolRule(after_sessions_held=3, on_date=f"{YEAR}-06-01")
    assert (
        tw.rule_words(spb.Tool(rule=rule), {}) == "à partir du 1er juin et après 3 séances tenues"
    )


def test_states(page: None) -> None:
    g.language = "en"
    assert tw.state_label(spb.Tool(state=spb.TOOL_UNLOCKED)) == "Open"
    assert tw.state_label(spb.Tool(state=spb.TOOL_UNLOCKED, done=True)) == "Done"
    assert tw.state_label(reasons(spb.LockReason(kind=spb.LOCK_REASON_BY_HAND))) == "Locked"
    by_coach = reasons(spb.LockReason(kind=spb.LOCK_REASON_LOCKED_BY_COACH))
    assert tw.state_label(by_coach) == "Locked by a coach"


def test_a_tool_a_coach_locked_waits_for_a_coach_whatever_its_rule(page: None) -> None:
    g.language = "en"
    tool = reasons(spb.LockReason(kind=spb.LOCK_REASON_LOCKED_BY_COACH))
    tool.rule.after_sessions_held = 2
    assert tw.rule_words(tool, {}) == "when a coach opens it (its rule no longer applies)"
    g.language = "fr"
    assert tw.reason_words(tool, {}) == "quand votre coach l'ouvrira"


def test_the_first_of_a_month_in_french(page: None) -> None:
    g.language = "fr"
    assert tw.day(f"{YEAR}-03-01") == "1er mars"
    assert tw.day(f"{YEAR}-03-12") == "12 mars"


# ------------------------------------------------------------- the overview's glance


def opened(tool_id: str, ago: timedelta, done: bool = False) -> spb.Tool:
    tool = spb.Tool(
        name=f"{SPACE}/tools/{tool_id}", tool_id=tool_id, state=spb.TOOL_UNLOCKED, done=done
    )
    tool.unlock_time.FromDatetime(NOW - ago)
    return tool


NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def test_the_glance_shows_tools_opened_in_the_last_14_days_not_done(page: None) -> None:
    g.language = "en"
    box = spb.ListToolsResponse(
        tools=[
            opened("tol_old", timedelta(days=15)),
            opened("tol_new", timedelta(days=13, hours=23)),
            opened("tol_done", timedelta(days=1), done=True),
            spb.Tool(tool_id="tol_never", state=spb.TOOL_UNLOCKED),  # no unlock time known
        ]
    )
    seen = tw.glance(box, NOW)
    assert [t.tool_id for t in seen.new] == ["tol_new"]
    assert (seen.to_come, seen.next_reason) == (0, "")


def test_the_glance_counts_the_locked_tools_and_gives_the_first_ones_reason(page: None) -> None:
    first = f"{SPACE}/tools/tol_1"
    box = spb.ListToolsResponse(
        tools=[
            spb.Tool(name=first, label="Values", state=spb.TOOL_UNLOCKED),
            reasons(spb.LockReason(kind=spb.LOCK_REASON_AFTER_SESSIONS_HELD, sessions_held=2)),
            reasons(spb.LockReason(kind=spb.LOCK_REASON_AFTER_TOOL_DONE, tool=first)),
            spb.Tool(state=spb.TOOL_REMOVED),
        ]
    )
    g.language = "en"
    seen = tw.glance(box, NOW)
    assert (seen.to_come, seen.next_reason) == (2, "after your 2nd session")
    assert seen.to_come_words == "2 tools still to come"
    g.language = "fr"
    seen = tw.glance(box, NOW)
    assert seen.next_reason == "après votre 2e séance"
    assert tw.tools_to_come(1) == "1 outil encore à venir"
    assert tw.tools_to_come(3) == "3 outils encore à venir"


def test_a_locked_tool_waiting_for_its_coach_reads_so(page: None) -> None:
    g.language = "en"
    box = spb.ListToolsResponse(tools=[reasons(spb.LockReason(kind=spb.LOCK_REASON_BY_HAND))])
    seen = tw.glance(box, NOW)
    assert (seen.to_come_words, seen.next_reason) == (
        "1 tool still to come",
        "when your coach opens it",
    )


def test_the_overview_card_links_a_new_tool_and_says_what_is_to_come() -> None:
    app = create_app("127.0.0.1:1", b"k" * 32)  # a channel that is never used
    card = spb.CoacheeSpaceCard(space=spb.Space(space_id="spc_1", name=SPACE))
    room = opened("tol_1", timedelta(days=1))
    room.MergeFrom(spb.Tool(kind=spb.TOOL_VIDEO_ROOM, label="Our room"))
    box = spb.ListToolsResponse(tools=[room, reasons(spb.LockReason(kind=spb.LOCK_REASON_BY_HAND))])
    shown = app.jinja_env.from_string(
        '{% from "components.html" import space_card %}'
        "{{ space_card(card, when, link=True, glance=glance) }}"
    )
    with app.test_request_context("/my-space"):
        g.language = "fr"
        html = shown.render(card=card, when=str, glance=tw.glance(box, NOW))
    assert (
        '<li class="tool open" id="new-tool-tol_1">'
        '<a href="/spaces/spc_1/sessions" id="open-tool-tol_1">Our room</a></li>'
    ) in html
    assert "1 outil encore à venir · prochain : quand votre coach l&#39;ouvrira" in html
    empty = tw.glance(spb.ListToolsResponse(tools=[opened("tol_1", timedelta(days=20))]), NOW)
    with app.test_request_context("/my-space"):
        assert "toolbox-spc_1" not in shown.render(card=card, when=str, glance=empty)
