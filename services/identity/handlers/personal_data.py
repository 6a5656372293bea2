"""The personal-data contract: export and erasure, and the erasures' progress."""

from __future__ import annotations

import secrets
from typing import Any

from services.contracts import identity as c
from services.contracts import personal_data as pd
from services.kernel.caller import Caller
from services.kernel.crypto import token_hash
from services.kernel.errors import NotFound, Unauthenticated, invalid
from services.kernel.ids import new_id

from ..adapters.passwords import Passwords
from ..domain import access
from ..domain.model import ERASED
from ..domain.throttle import ThrottlePolicy
from ..storage.unit import Db, IdentityUnit
from .common import audit, own_person, person_for_operator, revoke_access
from .throttling import password_matches
from .views import cohort_view, erasure_view, membership_changed, person_view


def export_personal_data(db: Db, caller: Caller) -> pd.PersonalDataExport:
    """Everything identity keeps about the caller (the personal-data contract): the account,
    memberships, sessions, sign-in history and audit entries about them. Never a secret:
    no password hash, token hash or link."""
    who = access.person(caller)
    with db.snapshot() as uow:
        person = own_person(uow, who.person_id)
        memberships = uow.memberships.of_person(person.id)
        sessions = uow.refresh_tokens.sessions_of(person.id)
        sign_ins = uow.sign_ins.all_of(person.id)
        audit_rows = uow.audit.about(person.id, [m.id for m, _ in memberships])
        second_factor = uow.mfa.summary(person.id)
        now = uow.clock.now()
    data = {
        "person": person_view(person).model_dump(mode="json"),
        "memberships": [
            {
                "member_id": m.id,
                "tenant_id": t.id,
                "tenant_name": t.name,
                "invited_email": m.invited_email,
                "roles": list(m.roles),
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "updated_at": m.updated_at.isoformat(),
                **cohort_view(m),  # the cohort attributes the tenant's admins set
            }
            for m, t in memberships
        ],
        "sessions": sessions,
        "sign_ins": sign_ins,
        "audit": audit_rows,
        "mfa": second_factor,  # when the authenticator was enrolled; never its secret
    }
    return pd.PersonalDataExport(service=c.SERVICE, exported_at=now, data=data)


ERASURE_RECEIPT_PREFIX = "er1."


def erase_my_data(
    db: Db,
    passwords: Passwords,
    services: tuple[str, ...],
    caller: Caller,
    request: pd.EraseMyDataRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> pd.Erasure:
    """The caller erases their own data everywhere, confirming with their password. The answer
    holds a receipt, the only way left to them to follow the erasure (their account is gone)."""
    who = access.person(caller)
    with db.read_only() as uow:
        person = uow.persons.get(who.person_id)
    if person is None or person.erased_at is not None:
        raise Unauthenticated("This account no longer exists.", reason="TOKEN_INVALID")
    if not password_matches(db, passwords, person, request.current_password, source, policy):
        raise invalid(current_password="is not your current password")  # noqa: S106
    receipt = ERASURE_RECEIPT_PREFIX + secrets.token_urlsafe(32)
    erasure = erase(db, services, person.id, "person", person.id, token_hash(receipt))
    return erasure.model_copy(update={"receipt": receipt})


def erase_person(
    db: Db, services: tuple[str, ...], caller: Caller, request: c.ErasePersonRequest
) -> pd.Erasure:
    """An operator erases a person (a request that reached them by other means)."""
    operator = access.require_operator(caller)
    person = person_for_operator(db, request, erased_too=True)  # erasing twice: ALREADY_ERASED
    return erase(db, services, person.id, "operator", operator.person_id, None)


def erase(
    db: Db,
    services: tuple[str, ...],
    person_id: str,
    requested_by: str,
    actor: str,
    receipt_hash: str | None,
) -> pd.Erasure:
    """Identity's part, in one transaction with the request to every other service: the account
    and its memberships are anonymised, sessions, links and sign-in history deleted, tokens
    revoked everywhere, and `identity.person_erased` recorded."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        person = uow.persons.get_for_update(person_id)
        if person is None:
            raise NotFound("No such person.", reason="PERSON_NOT_FOUND")
        person.erase(now)  # refuses operators and the already erased
        uow.persons.save_erased(person)
        for m, _ in uow.memberships.of_person(person.id):
            if m.status == ERASED:
                continue
            m.erase(person.email, now)
            uow.memberships.save_erased(m)
            uow.record(membership_changed(m, "erased"))
            audit(uow, "member.erased", m.tenant_id, actor, m.id)
        uow.refresh_tokens.delete_person(person.id)
        uow.links.delete_person(person.id)
        uow.sign_ins.delete_person(person.id)
        uow.mfa.delete_person(person.id)
        uow.coach_links.delete_person(person.id)
        uow.audit.forget_sources(person.id)
        revoke_access(uow, c.AccessRevocationReason.ERASED, person_id=person.id)
        erasure_id = new_id("era")
        uow.erasures.add(
            erasure_id, person.id, now, requested_by, receipt_hash, services, done=c.SERVICE
        )
        uow.record(c.PersonErased(erasure_id=erasure_id, person_id=person.id, requested_at=now))
        audit(uow, "person.erased", None, actor, person.id, erasure=erasure_id, by=requested_by)
        row = uow.erasures.get(erasure_id)
    assert row is not None
    return erasure_view(row)


def replay_erasures(
    db: Db, caller: Caller, request: pd.ReplayErasuresRequest
) -> pd.ReplayErasuresResponse:
    """After a service's database was restored from a backup taken at `since`: every erasure
    made since is published again (new event ids, so every service applies it again; erasing
    twice changes nothing), so that what the restore brought back is erased before anyone reads
    it. Identity's own restored database is replayed by erasing those people again."""
    operator = access.require_operator(caller)
    with db.unit_of_work() as uow:
        rows = uow.erasures.since(request.since)
        for row in rows:
            uow.record(
                c.PersonErased(
                    erasure_id=row.id, person_id=row.person_id, requested_at=row.created_at
                )
            )
        audit(
            uow,
            "erasure.replayed",
            None,
            operator.person_id,
            None,
            since=request.since.isoformat(),
            count=len(rows),
        )
    return pd.ReplayErasuresResponse(replayed=len(rows))


def record_erasure_step(uow: IdentityUnit, service: str, event: Any) -> None:
    """Another service reported `<service>.person_erased`."""
    uow.erasures.complete_step(event.erasure_id, service, uow.clock.now())


def get_erasure_status(db: Db, request: pd.ErasureReceiptRef) -> pd.Erasure:
    """Public: the receipt authenticates (the person no longer has an account)."""
    with db.snapshot() as uow:
        row = uow.erasures.by_receipt(token_hash(request.receipt))
    if row is None:
        raise NotFound("No erasure has this receipt.", reason="ERASURE_NOT_FOUND")
    return erasure_view(row)


def get_erasure(db: Db, caller: Caller, request: pd.ErasureRef) -> pd.Erasure:
    access.require_operator(caller)
    with db.snapshot() as uow:
        row = uow.erasures.get(request.erasure_id)
    if row is None:
        raise NotFound("No such erasure.", reason="ERASURE_NOT_FOUND")
    return erasure_view(row)


def list_erasures(db: Db, caller: Caller, request: pd.ListErasuresRequest) -> pd.ErasureList:
    access.require_operator(caller)
    with db.snapshot() as uow:
        rows, nxt = uow.erasures.page(request.effective_page_size(), request.page_token)
    return pd.ErasureList(erasures=[erasure_view(r) for r in rows], next_page_token=nxt)
