"""E-learning modules as the web app shows them (gateway/web/module_parts.py): an uploaded
folder's files named as ImportModule takes them (a folder's first component dropped, files
chosen one by one put where the format wants them, hidden files left out); a version's lessons
read from `document_json` in the page's language, Markdown rendered through the kernel's
sanitiser, a video only with an https address; the space's questionnaires a quiz links to; an
exported folder as a .zip (entries under one folder, unsafe paths left out, the same bytes each
time) and its download name (the slug's letters, digits and hyphens only)."""

from __future__ import annotations

import io
import json
import zipfile
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


def test_an_exported_folder_zips_under_one_folder_the_same_each_time() -> None:
    folder = cpb.ModuleFolder(
        slug="giving-feedback",
        version=2,
        files=[
            cpb.ModuleFile(path="module.md", text="---\nslug: giving-feedback\n---\n"),
            cpb.ModuleFile(path="lessons/01-why.fr.md", text="Pourquoi ? é"),
            cpb.ModuleFile(path="../outside.md", text="no"),
            cpb.ModuleFile(path="/etc/passwd", text="no"),
            cpb.ModuleFile(path="lessons\\01.md", text="no"),
            cpb.ModuleFile(path="lessons/.hidden", text="no"),
            cpb.ModuleFile(path="", text="no"),
        ],
    )
    data = mp.module_zip(folder)
    assert mp.module_zip(folder) == data  # no time of day in it
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [
            "giving-feedback-v2/module.md",
            "giving-feedback-v2/lessons/01-why.fr.md",
        ]
        assert archive.read("giving-feedback-v2/lessons/01-why.fr.md").decode() == "Pourquoi ? é"


def test_a_downloads_name_keeps_the_slugs_plain_characters_only() -> None:
    assert mp.download_name("giving-feedback", 3) == "giving-feedback-v3.zip"
    assert mp.download_name('a"b\r\nX: y/../é', 1) == "a-b-x-y-v1.zip"
    assert mp.download_name("", 0) == "module-v0.zip"
    assert mp.safe_entry("lessons/01-a.en.md") == "lessons/01-a.en.md"
    for bad in ("..", "a/../b", "/a", "C:/a", "a//b", "a/", ".git/config", "a b.md"):
        assert mp.safe_entry(bad) is None, bad
