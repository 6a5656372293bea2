"""E-learning modules as the web app shows them (gateway/web/module_parts.py): an uploaded
folder's files named as ImportModule takes them (a folder's first component dropped, files
chosen one by one put where the format wants them, hidden files left out); a version's lessons
read from `document_json` in the page's language, Markdown rendered through the kernel's
sanitiser, a video only with an https address; the space's questionnaires a quiz links to."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask, g

from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import content_pb2 as cpb
from gateway.web import module_parts as mp


@pytest.fixture
def page() -> Iterator[None]:
    with Flask(__name__).test_request_context():
        g.language = "fr"
        yield


def test_a_folders_files_lose_the_folders_own_name() -> None:
    assert mp.folder_path("giving-feedback/module.md", True) == "module.md"
    assert mp.folder_path("giving-feedback/lessons/01-a.en.md", True) == "lessons/01-a.en.md"
    assert mp.folder_path("x\\lessons\\01-a.fr.md", True) == "lessons/01-a.fr.md"


def test_files_chosen_one_by_one_go_where_the_format_wants_them() -> None:
    assert mp.folder_path("module.md", False) == "module.md"
    assert mp.folder_path("01-prepare.en.md", False) == "lessons/01-prepare.en.md"


def test_hidden_files_and_folders_are_left_out() -> None:
    assert mp.hidden(".DS_Store") and mp.hidden(".git/config") and mp.hidden("lessons/.x.md")
    assert not mp.hidden("lessons/01-a.en.md")


def document(*blocks: dict[str, object]) -> cpb.Module:
    lesson = {"key": "one", "title": {"en": "One", "fr": "Un"}, "blocks": list(blocks)}
    return cpb.Module(slug="m", version=1, document_json=json.dumps({"lessons": [lesson]}))


def test_a_lesson_is_read_in_the_pages_language_its_markdown_sanitised(page: None) -> None:
    module = document(
        {"kind": "text", "markdown": {"en": "Hi", "fr": "**Gras** <script>x()</script>"}},
        {"kind": "reflection", "prompt": {"en": "Why?", "fr": "Pourquoi ?"}},
        {"kind": "quiz", "instrument": "leadership-styles"},
    )
    (lesson,) = mp.lessons_of(module)
    assert (lesson.key, lesson.title) == ("one", "Un")
    text, reflection, quiz = lesson.blocks
    assert "<strong>Gras</strong>" in text.html and "<script" not in text.html
    assert reflection.prompt == "Pourquoi ?"
    assert (quiz.kind, quiz.instrument, quiz.index) == ("quiz", "leadership-styles", 2)


def test_a_video_keeps_only_an_https_address(page: None) -> None:
    module = document(
        {"kind": "video", "url": {"en": "https://v.test/a", "fr": "https://v.test/fr"}},
        {"kind": "video", "url": {"en": "javascript:alert(1)", "fr": "javascript:alert(1)"}},
    )
    shown, refused = mp.lessons_of(module)[0].blocks
    assert (shown.url, shown.host) == ("https://v.test/fr", "v.test")
    assert refused.url == ""


def test_a_quiz_links_to_the_spaces_questionnaire_of_its_instrument() -> None:
    links = mp.quiz_links(
        [apb.Assignment(assignment_id="asg_1", slug="leadership-styles", instrument_id="ins_9")]
    )
    assert links["leadership-styles"] == links["ins_9"] == "asg_1"
    assert "wheel-of-life" not in links
