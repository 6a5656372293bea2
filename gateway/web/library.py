"""The resource library's pages (issue 23), one per curator, each the same page over the level it
curates: a coach's own resources (`/coach/library`, PRIVATE), a tenant admin's for the
organisation (`/hr/library`, TENANT), an operator's for every organisation (`/operator/library`,
GLOBAL). Each searches what its person reads (words that start words of the title, author,
tags or note, accents ignored; filters by tag, language, kind and level; paged as
SearchResources pages), shows the other levels read-only, and adds, changes and deletes the
resources of its own level (a refused form shows each problem beside its field and keeps what
was typed).

The session's roles only choose whether a page shows (a coach's, a tenant admin's, an
operator's session; anyone else: 404); the service decides every call. A resource of another
level than the page's, or one the service does not show the caller, is 404 here. HR's page
shows the library only: recommendations belong to the spaces, which HR does not read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.pb import content_pb2 as cpb

from . import library_forms as lf
from .clients import authed
from .coach import an_id, is_coach
from .hr import done_note, is_admin, page_token, register_refusals
from .i18n import _
from .operator import is_operator
from .pages import Page, clients, field_errors, not_found, render, signed_in

library = Blueprint("library", __name__)
register_refusals(library)  # another level's resource, or one not shown: 404

Answer = Page | BaseResponse
PAGE_SIZE = 20


@dataclass(frozen=True)
class Desk:
    """A curator's library page: who may open it, the level they curate, the levels they
    read (the level filter's choices)."""

    area: str
    allowed: Callable[[], bool]
    scope: int
    levels: tuple[str, ...]

    def title(self) -> str:
        return {
            "coach": _("My library"),
            "hr": _("The organisation's library"),
            "operator": _("ecoach's library"),
        }[self.area]

    def curated(self) -> str:
        return {
            "coach": _("Your own resources: only you see them, and recommend them."),
            "hr": _("The organisation's resources: its coaches see them and recommend them."),
            "operator": _("The platform's resources: every organisation's coaches see them."),
        }[self.area]


DESKS = {
    "coach": Desk("coach", is_coach, cpb.PRIVATE, ("global", "tenant", "private")),
    "hr": Desk("hr", is_admin, cpb.TENANT, ("global", "tenant")),
    "operator": Desk("operator", is_operator, cpb.GLOBAL, ()),
}
AREAS = "<any(coach, hr, operator):area>"


def desk_of(area: str) -> Desk:
    desk = DESKS[area]
    if not desk.allowed():
        abort(404)
    return desk


def done_notes() -> dict[str, str]:
    return {
        "added": _("The resource is added to the library."),
        "saved": _("The resource is saved."),
        "deleted": _("The resource is deleted. Where it was recommended, its copy stays."),
    }


# -------------------------------------------------------------------------------- search


def search_of(desk: Desk) -> dict[str, str]:
    """The page's search, from its GET form (unknown values are ignored, as a link may be
    old): words, tags (comma-separated), a language, a kind, a level."""
    kind = request.args.get("kind", "")
    level = request.args.get("level", "")
    return {
        "q": request.args.get("q", "").strip()[: lf.QUERY_LIMIT],
        "tag": request.args.get("tag", "").strip()[: lf.QUERY_LIMIT],
        "language": request.args.get("language", "").strip()[:2],
        "kind": kind if kind in lf.KINDS else "",
        "level": level if level in desk.levels else "",
    }


def search_request(search: dict[str, str]) -> cpb.SearchResourcesRequest:
    tags = [t.strip() for t in search["tag"].split(",") if t.strip()][: lf.TAGS_LIMIT]
    return cpb.SearchResourcesRequest(
        query=search["q"],
        tags=tags,
        language=search["language"],
        kind=lf.KINDS.get(search["kind"], cpb.RESOURCE_KIND_UNSPECIFIED),
        scope=lf.LEVELS.get(search["level"], cpb.RESOURCE_SCOPE_UNSPECIFIED),
        page_size=PAGE_SIZE,
        page_token=page_token(),
    )


def library_page(desk: Desk, form: lf.ResourceForm | None = None) -> Page:
    form = form or lf.ResourceForm()
    search = search_of(desk)
    resources: list[cpb.Resource] = []
    next_page, search_error, search_errors = "", "", {}
    try:
        found = authed(clients(), clients().content.SearchResources, search_request(search))
        resources, next_page = list(found.resources), found.next_page_token
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            raise
        search_error, search_errors, _status = field_errors(exc)
    return render(
        "library.html",
        form.status,
        title=desk.title(),
        desk=desk,
        search={k: v for k, v in search.items() if v},
        typed=search,
        search_error=search_error,
        search_errors={"q" if k == "query" else k: v for k, v in search_errors.items()},
        resources=resources,
        next_page=next_page,
        first_page=bool(page_token()),
        form=form,
        done="" if form.message else done_note(done_notes()),
        lf=lf,
    )


@library.get(f"/{AREAS}/library")
@signed_in
def search(area: str) -> Page:
    return library_page(desk_of(area))


# ---------------------------------------------------------------- add, change, delete


@library.post(f"/{AREAS}/library")
@signed_in
def add(area: str) -> Answer:
    desk = desk_of(area)
    fields, form = lf.read_resource(request.form)
    if fields is None:
        return library_page(desk, form)
    try:
        authed(
            clients(),
            clients().content.CreateResource,
            cpb.CreateResourceRequest(scope=desk.scope, **fields),  # type: ignore[arg-type]
        )
    except grpc.RpcError as exc:
        form.message, form.errors, form.status = field_errors(exc)
        return library_page(desk, form)
    # The form's address ends in its heading (a refused form shows there): the note is on top.
    return redirect(url_for("library.search", area=area, done="added") + "#done")


def curated_resource(desk: Desk, resource_id: str) -> cpb.Resource:
    """The resource, if it is of the page's level and the service shows it; 404 otherwise."""
    if not an_id(resource_id):
        abort(404)
    found: cpb.Resource = authed(
        clients(), clients().content.GetResource, cpb.GetResourceRequest(resource_id=resource_id)
    )
    if found.scope != desk.scope:
        abort(404)
    return found


def edit_page(desk: Desk, resource: cpb.Resource, form: lf.ResourceForm | None = None) -> Page:
    form = form or lf.ResourceForm.of(resource)
    return render(
        "library_edit.html",
        form.status,
        title=_("Change a resource"),
        desk=desk,
        resource=resource,
        form=form,
        lf=lf,
    )


@library.route(f"/{AREAS}/library/<resource_id>", methods=["GET", "POST"])
@signed_in
def edit(area: str, resource_id: str) -> Answer:
    desk = desk_of(area)
    resource = curated_resource(desk, resource_id)
    if request.method == "GET":
        return edit_page(desk, resource)
    fields, form = lf.read_resource(request.form)
    if fields is None:
        return edit_page(desk, resource, form)
    try:
        authed(
            clients(),
            clients().content.UpdateResource,
            cpb.UpdateResourceRequest(resource_id=resource_id, **fields),  # type: ignore[arg-type]
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        form.message, form.errors, form.status = field_errors(exc)
        return edit_page(desk, resource, form)
    return redirect(url_for("library.search", area=area, done="saved"))


@library.post(f"/{AREAS}/library/<resource_id>/delete")
@signed_in
def delete(area: str, resource_id: str) -> Answer:
    desk = desk_of(area)
    resource = curated_resource(desk, resource_id)
    authed(
        clients(),
        clients().content.DeleteResource,
        cpb.DeleteResourceRequest(resource_id=resource.resource_id),
    )
    return redirect(url_for("library.search", area=area, done="deleted"))
