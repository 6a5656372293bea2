"""The coach's "Add a tool" form read into a Tool (gateway/web/toolbox.py): what it opens is one
choice (a kind with one of the space's targets, or the video room / a note template alone), its
conditions AND-ed into the rule, and each problem under its own field before any call."""

from __future__ import annotations

from flask import Flask, g

from gateway.api.pb import spaces_pb2 as spb
from gateway.web import toolbox as tb

SPACE = "tenants/ten_1/spaces/spc_1"
OTHER = spb.Tool(name=f"{SPACE}/tools/tol_2", tool_id="tol_2", label="Values card")


def read(**form: str) -> tuple[spb.Tool | None, tb.ToolForm]:
    with Flask(__name__).test_request_context(method="POST", data=form):
        g.language = "en"
        return tb.read_tool([OTHER])


def test_a_module_with_every_condition() -> None:
    tool, form = read(
        what="module:mas_0123abcd",
        label="Giving feedback",
        on_date="2026-03-12",
        after_sessions_held="2",
        after_tool="tol_2",
        by_hand="yes",
    )
    assert form.errors == {}
    assert tool is not None
    assert (tool.kind, tool.target_id, tool.label) == (
        spb.TOOL_MODULE,
        "mas_0123abcd",
        "Giving feedback",
    )
    assert tool.rule == spb.ToolRule(
        on_date="2026-03-12", after_sessions_held=2, after_tool=OTHER.name, by_hand=True
    )


def test_a_video_room_opens_at_once_and_has_no_target() -> None:
    tool, _form = read(what="video_room", label="Our room")
    assert tool is not None
    assert (tool.kind, tool.target_id) == (spb.TOOL_VIDEO_ROOM, "")
    assert tool.rule == spb.ToolRule()  # no condition: open at once


def test_each_problem_beside_its_field() -> None:
    tool, form = read(
        what="module:../etc",
        label="",
        on_date="12/03/2026",
        after_sessions_held="0",
        after_tool="tol_9",
    )
    assert tool is None
    assert set(form.errors) == {"what", "label", "on_date", "after_sessions_held", "after_tool"}
    assert form.typed["on_date"] == "12/03/2026"  # shown again as typed


def test_a_note_template_needs_its_text_and_a_one_line_name() -> None:
    tool, form = read(what="note_template", label="a\nb", template="  ")
    assert tool is None
    assert set(form.errors) == {"label", "template"}
    tool, form = read(what="note_template", label="Week review", template="What went well?")
    assert tool is not None and tool.template == "What went well?"
