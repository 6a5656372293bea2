"""What several use-case groups share: the settings handlers are given, the caller's own account
and standing in a tenant, the audit log, revocations and the throttle's refusal."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.contracts import identity as c
from services.kernel.caller import Caller
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    invalid,
)
from services.kernel.ids import new_id

from ..domain import access
from ..domain.model import ACTIVE, Membership, Person, Tenant, normalize_email
from ..storage.unit import Db, IdentityUnit


class TokenSettings:
    def __init__(
        self,
        issuer: str,
        audience: str,
        ttl: timedelta,
        refresh_ttl: timedelta = timedelta(days=14),
        refresh_grace: timedelta = timedelta(seconds=10),
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.refresh_ttl = refresh_ttl
        self.refresh_grace = refresh_grace


def own_person(uow: IdentityUnit, person_id: str, for_update: bool = False) -> Person:
    """The caller's own account; UNAUTHENTICATED (TOKEN_INVALID) once it no longer exists."""
    get = uow.persons.get_for_update if for_update else uow.persons.get
    person = get(person_id)
    if person is None:
        raise Unauthenticated("This account no longer exists.", reason="TOKEN_INVALID")
    return person


def retry_seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def throttled(
    wait: timedelta, what: str = "sign-in attempts", reason: str = "SIGN_IN_THROTTLED"
) -> ResourceExhausted:
    seconds = retry_seconds(wait)
    return ResourceExhausted(
        f"Too many {what}; try again in {seconds} s.",
        reason=reason,
        metadata={"retry_after_seconds": str(seconds)},
    )


def end_other_sessions(
    uow: IdentityUnit, person_id: str, keep: str | None, reason: c.AccessRevocationReason
) -> int:
    """Every session of the person but `keep` ends, with its access tokens (a password or email
    change: whoever else was signed in is out, the device it was made on stays in)."""
    ended = uow.refresh_tokens.revoke_person(person_id, uow.clock.now(), keep_family=keep)
    revoke_access(uow, reason, person_id=person_id, except_session_id=keep)
    return ended


def tenant_named(uow: IdentityUnit, name: str) -> Tenant | None:
    if not name:
        return None
    return uow.tenants.get(name) or uow.tenants.by_slug(name)


def check_entry(asked: str, tenant: Tenant | None, membership: Membership | None) -> None:
    """May this person enter the tenant they asked for (none asked: a personal token)?"""
    if asked and (membership is None or membership.status != ACTIVE):
        raise PermissionDenied(
            "You are not an active member of this organisation.", reason="NOT_A_MEMBER"
        )
    if tenant is not None and tenant.is_suspended:
        raise PermissionDenied(
            "This organisation's access to ecoach is suspended.", reason="TENANT_SUSPENDED"
        )


def standing_in(uow: IdentityUnit, caller: Caller, tenant_id: str) -> access.Standing:
    """The caller's powers in `tenant_id`; another tenant's ids are not found, not forbidden."""
    who = access.require_tenant_visible(caller, tenant_id)
    own = None if who.is_operator else uow.memberships.of_person_in(tenant_id, who.person_id)
    return access.Standing(who, own)


def visible_member(
    uow: IdentityUnit,
    standing: access.Standing,
    tenant_id: str,
    member_id: str,
    *,
    for_update: bool = False,
) -> Membership:
    m = uow.memberships.get(tenant_id, member_id, for_update=for_update)
    if m is None or not standing.may_read_member(m.person_id):
        raise access.member_not_found()
    return m


def revoke_access(
    uow: IdentityUnit,
    reason: c.AccessRevocationReason,
    *,
    person_id: str | None = None,
    tenant_id: str | None = None,
    session_id: str | None = None,
    except_session_id: str | None = None,
) -> None:
    """Records a revocation and its broadcast in the unit of work (rule 5): from the commit on,
    every process refuses the access tokens issued before now to the person (in the tenant, if
    given; of one session, or of all but one, if given), or to everyone in the tenant."""
    event = c.AccessRevoked(
        revocation_id=new_id("rev"),
        person_id=person_id,
        tenant_id=tenant_id,
        not_before=uow.clock.now(),
        reason=reason,
        session_id=session_id,
        except_session_id=except_session_id,
    )
    # Processes fetch one access-token lifetime back; a day keeps them for investigations.
    uow.revocations.prune(event.not_before - timedelta(days=1))
    uow.revocations.add(
        {
            "id": event.revocation_id,
            "person_id": person_id,
            "tenant_id": tenant_id,
            "not_before": event.not_before,
            "reason": reason.value,
            "session_id": session_id,
            "except_session_id": except_session_id,
        }
    )
    uow.record(event)
    audit(uow, "access.revoked", tenant_id, None, person_id, reason=reason.value)


def audit_row(
    now: datetime,
    action: str,
    tenant_id: str | None,
    actor: str | None,
    subject: str | None,
    **detail: Any,
) -> dict[str, Any]:
    return {
        "created_at": now,
        "action": action,
        "tenant_id": tenant_id,
        "actor_id": actor,
        "subject": subject,
        "detail": detail,
    }


def audit(
    uow: IdentityUnit,
    action: str,
    tenant_id: str | None,
    actor: str | None,
    subject: str | None,
    **detail: Any,
) -> None:
    """One audit-log row, in the transaction of the change it records (no free text)."""
    row = audit_row(uow.clock.now(), action, tenant_id, actor, subject, **detail)
    uow.audit.add_many([row])


def person_for_operator(db: Db, request: c.OperatorPersonRef, erased_too: bool = False) -> Person:
    if bool(request.person_id) == bool(request.email):
        raise invalid(person_id="give the person's id or their email (exactly one)")
    with db.read_only() as uow:
        person = (
            uow.persons.get(request.person_id)
            if request.person_id
            else uow.persons.by_email_key(normalize_email(request.email))
        )
    if person is None or (person.erased_at is not None and not erased_too):
        raise NotFound("No such person.", reason="PERSON_NOT_FOUND")
    return person


@dataclass(frozen=True)
class LinkSettings:
    master: MasterKey
    public_url: str
    reset_ttl: timedelta
    invitation_ttl: timedelta = timedelta(days=14)
