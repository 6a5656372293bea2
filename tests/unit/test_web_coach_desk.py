"""The coach's desk shows each coachee's toolbox as a count linked to the space's toolbox
(`toolbox_count` in coach_components.html), in the coach's language; nothing for an empty
toolbox."""

from __future__ import annotations

from flask import g

from gateway.api.pb import spaces_pb2 as spb
from gateway.web.app import create_app


def shown(entry: spb.CoachRosterEntry, language: str) -> str:
    app = create_app("127.0.0.1:1", b"k" * 32)  # a channel that is never used
    template = app.jinja_env.from_string(
        '{% from "coach_components.html" import toolbox_count %}{{ toolbox_count(e) }}'
    )
    with app.test_request_context("/desk"):
        g.language = language
        return template.render(e=entry)


def entry(tools_open: int, tools_total: int) -> spb.CoachRosterEntry:
    space = spb.Space(space_id="spc_1", name="tenants/ten_1/spaces/spc_1")
    return spb.CoachRosterEntry(space=space, tools_open=tools_open, tools_total=tools_total)


def test_the_desk_links_the_toolbox_with_its_tools_open_of_all() -> None:
    link = '<a href="/coach/spaces/spc_1/toolbox" id="tools-spc_1">'
    assert shown(entry(2, 5), "en") == (
        f'<dt>Toolbox</dt><dd class="tools">{link}2 of 5 open</a></dd>'
    )
    assert shown(entry(0, 1), "fr") == (
        f'<dt>Boîte à outils</dt><dd class="tools">{link}ouverts : 0 sur 1</a></dd>'
    )


def test_an_empty_toolbox_shows_nothing() -> None:
    assert shown(entry(0, 0), "en").strip() == ""
