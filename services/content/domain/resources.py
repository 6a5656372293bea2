"""The resource library: articles, videos, books and podcasts, at three levels. Plain Python.

- **global**: the platform's library, written by operators and read by every tenant's coaches
  and admins (a named cross-tenant read: it is ecoach's, not a tenant's, and holds nothing about
  anyone; ADR 0017);
- **tenant**: a tenant's own, written by its admins, read by its coaches and admins;
- **private**: a coach's own, read and written by that coach in that tenant only.

Coachees do not browse the library: they read what their coach recommends into their space
(recommendations.py), as it was when recommended. Whoever may not read a resource is told it
does not exist.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from services.kernel.caller import PersonClaims
from services.kernel.errors import NotFound, PermissionDenied

GLOBAL, TENANT, PRIVATE = "global", "tenant", "private"
UNCHECKED = "unchecked"


@dataclass
class Resource:
    id: str
    scope: str
    tenant_id: str | None  # None for the global library
    owner_person_id: str | None  # a private resource's coach
    kind: str
    title: str
    url: str
    author: str
    language: str
    minutes: int
    tags: tuple[str, ...]
    why: str
    created_at: datetime
    updated_at: datetime
    link_status: str = UNCHECKED
    link_checked_at: datetime | None = None

    def search_text(self) -> str:
        """What a search matches: title, author, tags and note, folded (search_words)."""
        return fold(" ".join((self.title, self.author, " ".join(self.tags), self.why)))


def not_found() -> NotFound:
    return NotFound("No such resource.", reason="RESOURCE_NOT_FOUND")


def tags_of(tags: list[str]) -> tuple[str, ...]:
    """Lower case, trimmed, each once, in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = " ".join(tag.split()).lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


def fold(text: str) -> str:
    """Lower case without accents, so that "Écoute" finds "ecoute" and the other way round."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_WORD = re.compile(r"[0-9a-z]+")


def search_words(query: str) -> list[str]:
    """The query's words, folded, letters and digits only (at most 10): each must start a word
    of the resource (a prefix, so that a search finds as one types)."""
    return _WORD.findall(fold(query))[:10]


def may_write(who: PersonClaims, scope: str) -> None:
    """Who adds to each level (PERMISSION_DENIED otherwise)."""
    if scope == GLOBAL and who.is_operator:
        return
    if scope == TENANT and who.tenant_id is not None and who.has_role("tenant_admin"):
        return
    if scope == PRIVATE and who.tenant_id is not None and who.has_role("coach"):
        return
    reasons = {
        GLOBAL: ("Only a platform operator curates the global library.", "OPERATOR_ONLY"),
        TENANT: ("Only a tenant admin curates the tenant's library.", "TENANT_ADMIN_ONLY"),
        PRIVATE: ("Only a coach keeps resources of their own.", "COACH_ONLY"),
    }
    message, reason = reasons[scope]
    raise PermissionDenied(message, reason=reason)


@dataclass(frozen=True)
class Levels:
    """What a person reads of the library: the global level, a tenant's, their own."""

    global_: bool
    tenant_id: str | None  # the tenant whose level they read
    owner: tuple[str, str] | None  # (tenant id, person id) of the private resources they read

    def include(self, r: Resource) -> bool:
        if r.scope == GLOBAL:
            return self.global_
        if r.scope == TENANT:
            return self.tenant_id is not None and r.tenant_id == self.tenant_id
        return self.owner is not None and (r.tenant_id, r.owner_person_id) == self.owner


def levels_of(who: PersonClaims) -> Levels:
    """Operators read the global level; a tenant's coaches and admins the global level and
    their tenant's; a coach their own too. Nobody else reads the library (a coachee reads what
    is recommended to them)."""
    if who.is_operator:
        return Levels(True, None, None)
    if who.tenant_id is None:
        return Levels(False, None, None)
    coach, admin = who.has_role("coach"), who.has_role("tenant_admin")
    return Levels(
        global_=coach or admin,
        tenant_id=who.tenant_id if coach or admin else None,
        owner=(who.tenant_id, who.person_id) if coach else None,
    )


def readable(resource: Resource, who: PersonClaims) -> bool:
    return levels_of(who).include(resource)


def require_readable(resource: Resource | None, who: PersonClaims) -> Resource:
    if resource is None or not readable(resource, who):
        raise not_found()
    return resource


def require_changeable(resource: Resource | None, who: PersonClaims) -> Resource:
    """The resource, if the caller may change or delete it: NOT_FOUND when they may not even
    read it, PERMISSION_DENIED when they read it but curate another level."""
    found = require_readable(resource, who)
    may_write(who, found.scope)
    return found
