"""Notes of a space and who may read them. Plain Python, no infrastructure.

Three kinds (PRODUCT.md's confidentiality contract):
- `shared`: between coachee, coach and co-coach, with threaded replies;
- `coach_private`: a coach's own notes, for their author only (not even the co-coach);
- `journal`: the coachee's private journal, for the coachee only.

Bodies are Markdown (at most 20,000 characters), rendered to sanitised HTML on the server;
links have a title and an http, https or mailto address. An author edits and deletes only their
own notes; every edit keeps the previous body (revisions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from services.kernel.errors import FailedPrecondition, NotFound, PermissionDenied, Problem, invalid
from services.kernel.ids import new_id

from .model import Relation

SHARED, COACH_PRIVATE, JOURNAL = "shared", "coach_private", "journal"
KINDS = (SHARED, COACH_PRIVATE, JOURNAL)
BODY_LIMIT = 20_000
MAX_LINKS = 10
LINK_TITLE_LIMIT = 200
URL_LIMIT = 2000
LINK_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True)
class Link:
    url: str
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "title": self.title}


def check_body(body: str) -> str:
    if not body.strip():
        raise invalid(body="is required")
    if len(body) > BODY_LIMIT:
        raise invalid(body=Problem("at most %(n)s characters", n=BODY_LIMIT))
    return body


def check_links(given: list[dict[str, Any]]) -> list[Link]:
    if len(given) > MAX_LINKS:
        raise invalid(links=Problem("at most %(n)s", n=MAX_LINKS))
    links = []
    for i, link in enumerate(given):
        url, title = str(link.get("url", "")).strip(), str(link.get("title", "")).strip()
        if len(url) > URL_LIMIT or urlsplit(url).scheme.lower() not in LINK_SCHEMES:
            raise invalid(**{f"links[{i}].url": "an http, https or mailto address"})
        if urlsplit(url).scheme.lower() != "mailto" and not urlsplit(url).netloc:
            raise invalid(**{f"links[{i}].url": "an http, https or mailto address"})
        if not title or len(title) > LINK_TITLE_LIMIT:
            raise invalid(
                **{f"links[{i}].title": Problem("1 to %(n)s characters", n=LINK_TITLE_LIMIT)}
            )
        links.append(Link(url, title))
    return links


def may_write(kind: str, relation: Relation) -> bool:
    if kind == SHARED:
        return relation in (Relation.COACHEE, Relation.COACH, Relation.CO_COACH)
    if kind == COACH_PRIVATE:
        return relation in (Relation.COACH, Relation.CO_COACH)
    return relation is Relation.COACHEE  # journal


@dataclass
class Note:
    id: str
    space_id: str
    tenant_id: str
    kind: str
    author_id: str
    parent_id: str | None
    body: str
    links: list[Link]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    reply_count: int = field(default=0, compare=False)
    session_id: str | None = None  # a session of the same space this shared note is about
    # The body rendered to safe HTML, once, when it is written (storage keeps it sealed).
    body_html: str = field(default="", compare=False)

    @classmethod
    def create(
        cls,
        space_id: str,
        tenant_id: str,
        kind: str,
        author_id: str,
        relation: Relation,
        body: str,
        links: list[dict[str, Any]],
        parent: Note | None,
        now: datetime,
        session_id: str | None = None,
    ) -> Note:
        if kind not in KINDS:
            raise invalid(kind="SHARED, COACH_PRIVATE or JOURNAL")
        if not may_write(kind, relation):
            raise PermissionDenied(
                "You may not write this kind of note in this space.", reason="NOTE_KIND_FORBIDDEN"
            )
        if parent is not None:
            if parent.kind != SHARED or kind != SHARED:
                raise invalid(parent_note="replies go to shared notes only")
            if parent.parent_id is not None:
                raise invalid(parent_note="reply to the thread's first note")
            if parent.deleted_at is not None:
                raise FailedPrecondition("This note was deleted.", reason="NOTE_DELETED")
        if session_id is not None and kind != SHARED:
            raise invalid(session_id="only a shared note links to a session")
        return cls(
            new_id("not"),
            space_id,
            tenant_id,
            kind,
            author_id,
            parent.id if parent else None,
            check_body(body),
            check_links(links),
            now,
            now,
            session_id=session_id,
        )

    def readable_by(
        self, person_id: str, relation: Relation, hidden_before: datetime | None = None
    ) -> bool:
        """`hidden_before`: a coach who joined later reads nobody's earlier notes (until the
        coachee agrees: Space.earlier_hidden_from)."""
        if relation is Relation.TENANT_ADMIN:
            return False
        if (
            hidden_before is not None
            and self.created_at < hidden_before
            and person_id != self.author_id
        ):
            return False
        if self.kind == SHARED:
            return True
        if self.kind == COACH_PRIVATE:
            return person_id == self.author_id  # its author alone, not the co-coach
        return relation is Relation.COACHEE and person_id == self.author_id

    def edit(self, person_id: str, changes: dict[str, Any], now: datetime) -> str:
        """The author changes body and links; returns the previous body (a revision)."""
        self._own(person_id)
        previous = self.body
        if "body" in changes:
            self.body = check_body(changes["body"])
        if "links" in changes:
            self.links = check_links(changes["links"])
        if "session_id" in changes:
            if changes["session_id"] is not None and self.kind != SHARED:
                raise invalid(session_id="only a shared note links to a session")
            self.session_id = changes["session_id"]
        self.updated_at = now
        return previous

    def delete(self, person_id: str, now: datetime) -> None:
        self._own(person_id)
        self.body, self.links, self.deleted_at = "", [], now

    def _own(self, person_id: str) -> None:
        if self.deleted_at is not None:
            raise note_not_found()
        if person_id != self.author_id:
            raise PermissionDenied("Only its author may change a note.", reason="NOT_NOTE_AUTHOR")


def note_not_found() -> NotFound:
    return NotFound("No such note.", reason="NOTE_NOT_FOUND")
