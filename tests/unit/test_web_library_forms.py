"""The resource form of the web app (gateway/web/library_forms.py): read back into the API's
fields (tags split at commas, minutes a whole number, blank minutes 0), refused beside its field
before any call when the kind or the minutes are wrong and kept as typed, and a kept resource
shown again as its form; the words for kinds and languages in the page's language; the library
page's search form read into SearchResources (unknown kinds and levels ignored)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g
from werkzeug.datastructures import MultiDict

from gateway.api.pb import content_pb2 as cpb
from gateway.web import library
from gateway.web import library_forms as lf


@pytest.fixture
def page() -> Iterator[None]:
    with Flask(__name__).test_request_context():
        g.language = "en"
        yield


def typed(**changes: str) -> MultiDict[str, str]:
    form = {
        "kind": "podcast",
        "title": "  Écoute active ",
        "url": " https://example.org/a ",
        "author": "",
        "language": "fr",
        "minutes": "",
        "tags": " écoute, relation ,, ",
        "why": "Line one\nline two",
    }
    return MultiDict({**form, **changes})


def test_the_form_becomes_the_apis_fields(page: None) -> None:
    fields, form = lf.read_resource(typed())
    assert fields == {
        "kind": cpb.PODCAST,
        "title": "Écoute active",
        "url": "https://example.org/a",
        "author": "",
        "language": "fr",
        "minutes": 0,
        "tags": ["écoute", "relation"],
        "why": "Line one\nline two",
    }
    assert not form.errors and form.status == 200
    assert lf.read_resource(typed(minutes=" 45 "))[0]["minutes"] == 45  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "film"}, "kind"),
        ({"minutes": "ten"}, "minutes"),
        ({"minutes": "-5"}, "minutes"),
        ({"minutes": "10001"}, "minutes"),
    ],
)
def test_a_wrong_kind_or_minutes_is_refused_beside_its_field_and_kept(
    page: None, changes: dict[str, str], field: str
) -> None:
    fields, form = lf.read_resource(typed(**changes))
    assert fields is None
    assert list(form.errors) == [field] and form.status == 400 and form.message
    assert form.typed[field] == changes[field].strip()
    assert form.typed["title"] == "Écoute active"


def test_a_kept_resource_is_shown_again_as_its_form(page: None) -> None:
    kept = cpb.Resource(
        kind=cpb.BOOK, title="T", url="https://e.org", language="en", minutes=0, tags=["a", "b"]
    )
    form = lf.ResourceForm.of(kept)
    assert form.typed["kind"] == "book" and form.typed["tags"] == "a, b"
    assert form.typed["minutes"] == ""  # 0: not said
    fields, _form = lf.read_resource(MultiDict(form.typed))
    assert fields is not None and fields["tags"] == ["a", "b"] and fields["kind"] == cpb.BOOK


def test_kinds_and_languages_are_named_in_the_pages_language(page: None) -> None:
    assert lf.kind_label(cpb.VIDEO) == "Video"
    assert dict(lf.language_options())["fr"] == "French"
    assert dict(lf.language_options("sv"))["sv"] == "Swedish"  # a kept language stays offered
    g.language = "fr"
    assert lf.kind_label(cpb.BOOK) == "Livre"
    assert dict(lf.language_options())["en"] == "anglais"


def test_the_search_form_becomes_the_apis_search_and_unknown_values_are_ignored() -> None:
    asked = "q=%C3%A9coute+act&tag=%C3%A9coute,+relation,&language=fr&kind=video&level=tenant"
    with Flask(__name__).test_request_context(f"/coach/library?{asked}&page=tok"):
        g.language = "en"
        wanted = library.search_request(library.search_of(library.DESKS["coach"]))
    assert wanted.query == "écoute act" and list(wanted.tags) == ["écoute", "relation"]
    assert wanted.language == "fr" and wanted.kind == cpb.VIDEO and wanted.scope == cpb.TENANT
    assert wanted.page_token == "tok" and wanted.page_size == library.PAGE_SIZE
    old_link = "kind=film&level=private"  # HR reads no private level
    with Flask(__name__).test_request_context(f"/hr/library?{old_link}"):
        wanted = library.search_request(library.search_of(library.DESKS["hr"]))
    assert wanted.kind == cpb.RESOURCE_KIND_UNSPECIFIED
    assert wanted.scope == cpb.RESOURCE_SCOPE_UNSPECIFIED
