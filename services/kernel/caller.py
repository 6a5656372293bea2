"""Who is calling (rule 5). Domain code authorises on these, never on headers.

- `PersonClaims`: a person, from a verified access token. `tenant_id` is None for an operator's
  token or a personal token (one that has not entered a tenant yet).
- `ServiceClaims`: another service, from a verified service token, on methods that name it.
- `Anonymous`: no token, on a method in the public registry only.
- `SYSTEM`: exists only inside a process, for its own timers and handlers; no message can claim it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import NotFound, PermissionDenied, Unauthenticated


@dataclass(frozen=True)
class PersonClaims:
    person_id: str
    tenant_id: str | None
    roles: tuple[str, ...]
    platform_admin: bool
    token_id: str
    issued_at: datetime
    expires_at: datetime
    locale: str = "en"
    # The sign-in (refresh-token family) the token comes from (`sid`); None for tokens without
    # one. Revocations may name a session, or spare one ("every session but this one").
    session_id: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_operator(self) -> bool:
        return self.platform_admin and self.tenant_id is None


@dataclass(frozen=True)
class ServiceClaims:
    service: str
    token_id: str
    expires_at: datetime
    kid: str


@dataclass(frozen=True)
class Anonymous:
    pass


@dataclass(frozen=True)
class SystemCaller:
    pass


SYSTEM = SystemCaller()
ANONYMOUS = Anonymous()

Caller = PersonClaims | ServiceClaims | Anonymous | SystemCaller


def require_person(caller: Caller) -> PersonClaims:
    """The caller as a person (a person's access token), or UNAUTHENTICATED."""
    if not isinstance(caller, PersonClaims):
        raise Unauthenticated("This method needs a person's access token.", reason="TOKEN_INVALID")
    return caller


def require_operator(caller: Caller) -> PersonClaims:
    """A platform operator's token (signed in without a tenant), or PERMISSION_DENIED."""
    who = require_person(caller)
    if not who.is_operator:
        raise PermissionDenied(
            "Only a platform operator, signed in without a tenant, may do this.",
            reason="OPERATOR_ONLY",
        )
    return who


def member_of(caller: Caller, tenant_id: str) -> PersonClaims:
    """A person's token for this very tenant; anyone else (another tenant's member, a service,
    no token) learns nothing of it: NOT_FOUND (or UNAUTHENTICATED without a person's token)."""
    who = require_person(caller)
    if who.tenant_id != tenant_id:
        raise NotFound("No such tenant.", reason="TENANT_NOT_FOUND")
    return who


def admin_of(caller: Caller, tenant_id: str, what: str) -> PersonClaims:
    """A tenant admin of `tenant_id` (`what`: what only an admin does, said in the refusal)."""
    who = member_of(caller, tenant_id)
    if not who.has_role("tenant_admin"):
        raise PermissionDenied(f"Only a tenant admin {what}.", reason="TENANT_ADMIN_ONLY")
    return who
