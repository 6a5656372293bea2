"""The resource library (the content service, issue 23) as the web app shows it, shared by the
curators' library pages (library.py: a coach's own resources, a tenant admin's, an operator's
global ones) and the spaces' pages (recommendations.py, coach.py, coachee.py): the words for a
resource's kind, level and link status, the resource form read back into the API's fields (and
what was typed, to show again), the library searched for the coach's "recommend" form and a
space's recommendations.

Who sees what is the service's to decide (protos/ecoach/v1/content.proto): the library's levels
by who reads them; a space's recommendations to its coachee, coach and co-coach only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from babel import Locale

from gateway.api.pb import content_pb2 as cpb

from .clients import authed
from .i18n import _, language
from .pages import clients

# A space's recommendations on its page at once (newest first), and the library's resources
# offered in the coach's "recommend" form.
LISTED = 200
OFFERED = 50
# The languages offered in the forms (the API takes any two-letter ISO 639-1 code: a resource
# added through the API in another one keeps it, and its form offers it too).
LANGUAGES = ("fr", "en", "de", "es", "it", "nl", "pt")
KINDS = {"article": cpb.ARTICLE, "video": cpb.VIDEO, "book": cpb.BOOK, "podcast": cpb.PODCAST}
LEVELS = {"global": cpb.GLOBAL, "tenant": cpb.TENANT, "private": cpb.PRIVATE}
# The fields of the resource form, as the API names them (its errors name them so too).
FIELDS = ("kind", "title", "url", "author", "language", "minutes", "tags", "why")
# A search's limits, as SearchResources takes them: longer text is cut, more tags are dropped.
QUERY_LIMIT = 200
TAGS_LIMIT = 10


def kind_label(kind: int) -> str:
    return {
        cpb.ARTICLE: _("Article"),
        cpb.VIDEO: _("Video"),
        cpb.BOOK: _("Book"),
        cpb.PODCAST: _("Podcast"),
    }.get(kind, "")


def level_label(scope: int) -> str:
    return {
        cpb.GLOBAL: _("ecoach's library"),
        cpb.TENANT: _("The organisation's library"),
        cpb.PRIVATE: _("My own"),
    }.get(scope, "")


def link_label(status: int) -> str:
    return {
        cpb.UNCHECKED: _("Link not checked yet"),
        cpb.LINK_OK: _("Link works"),
        cpb.LINK_BROKEN: _("Link broken"),
        cpb.LINK_UNREACHABLE: _("Link did not answer"),
        cpb.LINK_REFUSED: _("Link not checked (not a public address)"),
    }.get(status, "")


def language_name(code: str) -> str:
    """A language's name in the page's language (`fr`: "French" or "français")."""
    name = Locale.parse(language()).languages.get(code)
    return str(name) if name else code


def kind_options() -> list[tuple[str, str]]:
    return [(key, kind_label(value)) for key, value in KINDS.items()]


def language_options(current: str = "") -> list[tuple[str, str]]:
    codes = list(LANGUAGES)
    if current and current not in codes:
        codes.append(current)
    return [(code, language_name(code)) for code in codes]


def page_language() -> str:
    """The resource form's language at first: the page's."""
    return language()


def minutes_label(minutes: int) -> str:
    return _("%(minutes)s min", minutes=minutes) if minutes else ""


# ------------------------------------------------------------------------- the resource form


@dataclass
class ResourceForm:
    """What a resource form shows: the fields as typed (or as kept) and the problems, the
    message above the form and each field's beside it."""

    typed: dict[str, str] = field(default_factory=dict)
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200

    @classmethod
    def of(cls, r: cpb.Resource) -> ResourceForm:
        kind = next((k for k, v in KINDS.items() if v == r.kind), "article")
        return cls(
            {
                "kind": kind,
                "title": r.title,
                "url": r.url,
                "author": r.author,
                "language": r.language,
                "minutes": str(r.minutes) if r.minutes else "",
                "tags": ", ".join(r.tags),
                "why": r.why,
            }
        )


def read_resource(form: Any) -> tuple[dict[str, Any] | None, ResourceForm]:
    """The API's fields from a posted resource form (None when the page can tell what is
    wrong before any call), with what was typed."""
    typed = {name: form.get(name, "") for name in FIELDS}
    for name in ("title", "url", "author", "language", "minutes", "tags"):
        typed[name] = typed[name].strip()
    errors: dict[str, str] = {}
    if typed["kind"] not in KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    minutes = 0
    if typed["minutes"]:
        if typed["minutes"].isdigit() and int(typed["minutes"]) <= 10_000:
            minutes = int(typed["minutes"])
        else:
            errors["minutes"] = _("Write a whole number of minutes from 0 to 10000, or nothing.")
    if errors:
        return None, ResourceForm(typed, _("Check the fields marked below."), errors, 400)
    fields = {
        "kind": KINDS[typed["kind"]],
        "title": typed["title"],
        "url": typed["url"],
        "author": typed["author"],
        "language": typed["language"],
        "minutes": minutes,
        "tags": [t.strip() for t in typed["tags"].split(",") if t.strip()],
        "why": typed["why"],
    }
    return fields, ResourceForm(typed)


# --------------------------------------------------------------------- recommendations


def recommendations_of(space_name: str) -> list[cpb.Recommendation]:
    """The space's recommendations, newest first; none while the content service does not know
    the space yet (it learns of spaces from their events)."""
    try:
        reply = authed(
            clients(),
            clients().content.ListRecommendations,
            cpb.ListRecommendationsRequest(parent=space_name, page_size=LISTED),
        )
    except grpc.RpcError as exc:
        if exc.code() in (  # type: ignore[attr-defined]
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.FAILED_PRECONDITION,
        ):
            return []
        raise
    return list(reply.recommendations)


def resource_choices(query: str) -> list[cpb.Resource]:
    """What the coach may recommend: the library's resources they read, those matching `query`
    first (by title without one). A query the service refuses offers nothing."""
    try:
        reply = authed(
            clients(),
            clients().content.SearchResources,
            cpb.SearchResourcesRequest(query=query[:QUERY_LIMIT], page_size=OFFERED),
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            return []
        raise
    return list(reply.resources)


def useful_label(r: cpb.Recommendation) -> str:
    if not r.HasField("useful"):
        return _("Not said yet")
    return _("Helpful") if r.useful else _("Not helpful")


def read_label(r: cpb.Recommendation) -> str:
    return _("Read") if r.status == cpb.READ else _("Not read yet")
