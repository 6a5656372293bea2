"""Sessions: tokens granted, refreshed, signed out; the person's sign-in history."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.contracts import identity as c
from services.contracts.base import Empty
from services.kernel.caller import Caller
from services.kernel.errors import DomainError, PermissionDenied, Unauthenticated
from services.kernel.tokens import issue_access_token

from ..domain import access, mfa
from ..domain.model import Membership, Person, Tenant
from ..domain.sessions import RefreshToken, Verdict, judge
from ..domain.sessions import parse as parse_secret_token
from ..storage.unit import Db, IdentityUnit
from .common import TokenSettings, audit, check_entry, revoke_access, tenant_named
from .signing_keys import SigningKeyCache


def start_session(
    uow: IdentityUnit,
    tokens: TokenSettings,
    person_id: str,
    tenant: Tenant | None,
    amr: list[str],
    source: str,
    now: datetime,
) -> RefreshToken:
    """A completed sign-in: recorded in the person's history, and a new session."""
    uow.sign_ins.add(person_id, "succeeded", tenant.id if tenant else None, source, now)
    uow.refresh_tokens.prune_person(person_id, now - timedelta(days=1))
    refresh = RefreshToken.issue(
        person_id=person_id,
        tenant_id=tenant.id if tenant else None,
        amr=amr,
        now=now,
        ttl=tokens.refresh_ttl,
    )
    uow.refresh_tokens.add(refresh)
    return refresh


def mfa_needed(person: Person, tenant: Tenant | None, membership: Membership | None) -> bool:
    return mfa.mfa_required(
        platform_admin=person.platform_admin,
        entering_tenant=tenant is not None,
        roles=membership.roles if membership else (),
        required_roles=tenant.mfa_required_roles if tenant else (),
    )


def _require_mfa_if_needed(
    amr: list[str], person: Person, tenant: Tenant | None, membership: Membership | None
) -> None:
    if mfa.MFA not in amr and mfa_needed(person, tenant, membership):
        raise PermissionDenied(
            "Entering here needs a sign-in with your authenticator: sign in again.",
            reason="MFA_REQUIRED",
        )


def refresh(
    db: Db, keys: SigningKeyCache, tokens: TokenSettings, request: c.RefreshRequest
) -> c.SignInResponse:
    """Trades a refresh token for a new pair, for the same tenant or (`tenant`) another one of
    the person's. The person's current roles and state are read again: a deactivated member, a
    suspended tenant or a revoked session gets nothing."""
    parsed = parse_secret_token(request.refresh_token)
    refused: DomainError | None = None
    person: Person | None = None
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        held = uow.refresh_tokens.get_for_update(parsed[0]) if parsed else None
        if held is None or parsed is None or not held.matches(parsed[1]):
            raise Unauthenticated("This session is not valid.", reason="REFRESH_TOKEN_INVALID")
        verdict = judge(held, now, tokens.refresh_grace)
        if verdict is Verdict.REUSED:
            # A token used twice was copied: end the session for whoever holds it.
            uow.refresh_tokens.revoke_family(held.family_id, now)
            audit(uow, "session.reuse_detected", None, None, held.person_id)
            refused = Unauthenticated(
                "This session was ended because its token was used twice; sign in again.",
                reason="REFRESH_TOKEN_REUSED",
            )
        elif verdict is Verdict.REVOKED:
            raise Unauthenticated("This session has ended; sign in again.", reason="SESSION_ENDED")
        elif verdict is Verdict.EXPIRED:
            raise Unauthenticated(
                "This session has expired; sign in again.", reason="SESSION_EXPIRED"
            )
        else:
            person = uow.persons.get(held.person_id)
            assert person is not None
            tenant = tenant_named(uow, request.tenant) if request.tenant else None
            if tenant is None and not request.tenant and held.tenant_id:
                tenant = uow.tenants.get(held.tenant_id)
            membership = uow.memberships.of_person_in(tenant.id, person.id) if tenant else None
            try:
                check_entry(request.tenant or held.tenant_id or "", tenant, membership)
                _require_mfa_if_needed(held.amr, person, tenant, membership)
            except DomainError as exc:
                if not request.tenant:  # the session's own tenant is closed to them now
                    uow.refresh_tokens.revoke_family(held.family_id, now)
                refused = exc
            else:
                if verdict is Verdict.ROTATE:
                    uow.refresh_tokens.mark_used(held, now)
                successor = held.successor(
                    now, tokens.refresh_ttl, tenant_id=tenant.id if tenant else None
                )
                uow.refresh_tokens.add(successor)
    if refused is not None or person is None:  # raised after the commit: the revocation holds
        raise refused or Unauthenticated("This session is not valid.", reason="SESSION_ENDED")
    return grant(db, keys, tokens, person, tenant, membership, successor)


def sign_out(db: Db, request: c.SignOutRequest) -> Empty:
    """Ends the session the refresh token belongs to, and its access tokens at once (revoked
    by session id). Unknown sessions: nothing to do."""
    parsed = parse_secret_token(request.refresh_token)
    with db.unit_of_work() as uow:
        held = uow.refresh_tokens.get_for_update(parsed[0]) if parsed else None
        if held is not None and parsed is not None and held.matches(parsed[1]):
            uow.refresh_tokens.revoke_family(held.family_id, uow.clock.now())
            revoke_access(
                uow,
                c.AccessRevocationReason.SIGNED_OUT,
                person_id=held.person_id,
                session_id=held.family_id,
            )
    return Empty()


def sign_out_everywhere(db: Db, caller: Caller) -> c.SignOutEverywhereResponse:
    person_id = access.person(caller).person_id
    with db.unit_of_work() as uow:
        ended = uow.refresh_tokens.revoke_person(person_id, uow.clock.now())
        revoke_access(uow, c.AccessRevocationReason.SIGNED_OUT_EVERYWHERE, person_id=person_id)
    return c.SignOutEverywhereResponse(sessions_ended=ended)


def list_my_sign_ins(
    db: Db, caller: Caller, request: c.ListMySignInsRequest
) -> c.ListMySignInsResponse:
    """The caller's own sign-ins and failed attempts, newest first (90 days). Nobody else's:
    tenant admins never see employees' sign-ins."""
    who = access.person(caller)
    with db.read_only() as uow:
        rows, nxt = uow.sign_ins.page(
            who.person_id, request.effective_page_size(), request.page_token
        )
    return c.ListMySignInsResponse(
        sign_ins=[
            c.SignInRecord(
                time=r["created_at"],
                outcome=r["outcome"],
                tenant_id=r["tenant_id"] or "",
                source=r["source"],
            )
            for r in rows
        ],
        next_page_token=nxt,
    )


def grant(
    db: Db,
    keys: SigningKeyCache,
    tokens: TokenSettings,
    person: Person,
    tenant: Tenant | None,
    membership: Membership | None,
    refresh: RefreshToken,
) -> c.SignInResponse:
    token, expires = issue_access_token(
        keys.current(db),
        issuer=tokens.issuer,
        audience=tokens.audience,
        clock=db.clock,
        ttl=tokens.ttl,
        person_id=person.id,
        tenant_id=tenant.id if tenant and membership else None,
        roles=membership.roles if membership else (),
        platform_admin=person.platform_admin and tenant is None,
        locale=person.locale,
        amr=refresh.amr,
        session_id=refresh.family_id,
    )
    return c.SignInResponse(
        access_token=token,
        expires_at=expires,
        person_id=person.id,
        tenant_id=tenant.id if tenant else "",
        refresh_token=refresh.token,
        refresh_expires_at=refresh.expires_at,
    )
