"""Identity's repositories in memory: the names and methods of `services/identity/storage`
(declared by `storage/unit.py`) that the handler tests reach (sign-in and its throttle, the
second factor, sessions, members' roles, the audit log, revocations), over one
`IdentityState` a `FakeDatabase` rolls back. A method a handler calls that is not here fails
the test loudly (AttributeError): add it, with the real repository's meaning.

Sealing is real (a `MasterKey` of the test's own): a TOTP secret or a signing key is unsealed
as in production.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from services.identity.domain.credentials import PersonLink
from services.identity.domain.mfa import Challenge
from services.identity.domain.model import Membership, Person, Tenant
from services.identity.domain.sessions import RefreshToken
from services.identity.domain.throttle import Counter
from services.kernel.clock import Clock

from . import FakeDatabase


@dataclass
class IdentityState:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    counters: dict[str, Counter] = field(default_factory=dict)
    sign_ins: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    signing_keys: list[dict[str, Any]] = field(default_factory=list)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    revocations: list[dict[str, Any]] = field(default_factory=list)
    factors: dict[str, SimpleNamespace] = field(default_factory=dict)
    recovery_codes: dict[str, dict[str, datetime | None]] = field(default_factory=dict)
    challenges: dict[str, Challenge] = field(default_factory=dict)
    links: dict[str, PersonLink] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


class FakeTenants:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(self, tenant: Tenant) -> None:
        self.state.tenants[tenant.id] = copy.deepcopy(tenant)

    def save(self, tenant: Tenant) -> None:
        self.add(tenant)

    def get(self, tenant_id: str) -> Tenant | None:
        return copy.deepcopy(self.state.tenants.get(tenant_id))

    get_for_update = get

    def by_slug(self, slug: str) -> Tenant | None:
        found = [t for t in self.state.tenants.values() if t.slug == slug]
        return copy.deepcopy(found[0]) if found else None


class FakePersons:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(self, person: Person) -> None:
        self.state.persons[person.id] = copy.deepcopy(person)

    def get(self, person_id: str) -> Person | None:
        return copy.deepcopy(self.state.persons.get(person_id))

    get_for_update = get

    def by_email_key(self, email_key: str) -> Person | None:
        found = [p for p in self.state.persons.values() if p.email_key == email_key]
        return copy.deepcopy(found[0]) if found else None

    def many(self, ids: Sequence[str]) -> dict[str, Person]:
        return {i: copy.deepcopy(self.state.persons[i]) for i in ids if i in self.state.persons}

    def set_password(self, person_id: str, password_hash: str, now: datetime) -> None:
        person = self.state.persons[person_id]
        person.password_hash, person.updated_at = password_hash, now


class FakeMemberships:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(self, m: Membership) -> None:
        self.state.memberships[m.id] = copy.deepcopy(m)

    def save(self, m: Membership) -> None:
        self.add(m)

    def get(self, tenant_id: str, member_id: str, *, for_update: bool = False) -> Membership | None:
        found = self.state.memberships.get(member_id)
        return copy.deepcopy(found) if found and found.tenant_id == tenant_id else None

    def of_person_in(self, tenant_id: str, person_id: str) -> Membership | None:
        found = [
            m
            for m in self.state.memberships.values()
            if m.tenant_id == tenant_id and m.person_id == person_id
        ]
        return copy.deepcopy(found[0]) if found else None


class FakeThrottle:
    """The counters, created when first locked (as the real upsert does)."""

    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def locked(self, keys: Sequence[str], now: datetime) -> dict[str, Counter]:
        for key in keys:
            self.state.counters.setdefault(key, Counter(key=key, failures=0, window_start=now))
        return {k: copy.deepcopy(self.state.counters[k]) for k in sorted(set(keys))}

    def save(self, counters: Sequence[Counter]) -> None:
        for counter in counters:
            self.state.counters[counter.key] = copy.deepcopy(counter)

    def clear(self, key: str) -> None:
        self.state.counters.pop(key, None)

    def prune(self, before: datetime) -> None:
        for key, c in list(self.state.counters.items()):
            if c.window_start < before and (c.blocked_until is None or c.blocked_until < before):
                del self.state.counters[key]


class FakeSignInHistory:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(
        self, person_id: str, outcome: str, tenant_id: str | None, source: str, now: datetime
    ) -> None:
        self.state.sign_ins.append(
            {"person_id": person_id, "outcome": outcome, "tenant_id": tenant_id, "at": now}
        )


class FakeAuditLog:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        self.state.audit.extend(copy.deepcopy(list(rows)))


class FakeSigningKeys:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def _in_service(self, now: datetime) -> list[dict[str, Any]]:
        return [
            k for k in self.state.signing_keys if k["retire_at"] is None or k["retire_at"] > now
        ]

    def signing(self, now: datetime, publish: timedelta) -> tuple[str, str, datetime | None] | None:
        keys = sorted(self._in_service(now), key=lambda k: k["created_at"], reverse=True)
        if not keys:
            return None
        due = [k for k in keys if k["created_at"] <= now - publish]
        chosen = due[0] if due else keys[-1]
        newer = [k["created_at"] for k in keys if k["created_at"] > chosen["created_at"]]
        return chosen["kid"], chosen["sealed"], (min(newer) + publish if newer else None)

    def add(self, kid: str, sealed: str, public_jwk: dict[str, str], now: datetime) -> None:
        self.state.signing_keys.append(
            {
                "kid": kid,
                "sealed": sealed,
                "public_jwk": json.dumps(public_jwk),
                "created_at": now,
                "retire_at": None,
            }
        )

    def lock(self) -> None:
        pass

    def public_jwks(self, now: datetime) -> list[dict[str, Any]]:
        return [json.loads(k["public_jwk"]) for k in self._in_service(now)]


class FakeRefreshTokens:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(self, token: RefreshToken) -> None:
        self.state.refresh_tokens[token.id] = copy.deepcopy(token)

    def get_for_update(self, token_id: str) -> RefreshToken | None:
        return copy.deepcopy(self.state.refresh_tokens.get(token_id))

    def mark_used(self, token: RefreshToken, now: datetime) -> None:
        self.state.refresh_tokens[token.id].used_at = now

    def prune_person(self, person_id: str, before: datetime) -> None:
        pass  # only expired rows go: nothing a handler test reads

    def _revoke(self, keep: Any, now: datetime) -> int:
        ended = 0
        for token in self.state.refresh_tokens.values():
            if token.revoked_at is None and keep(token):
                token.revoked_at, ended = now, ended + 1
        return ended

    def revoke_family(self, family_id: str, now: datetime) -> int:
        return self._revoke(lambda t: t.family_id == family_id, now)

    def revoke_person(self, person_id: str, now: datetime, keep_family: str | None = None) -> int:
        return self._revoke(lambda t: t.person_id == person_id and t.family_id != keep_family, now)

    def revoke_membership(self, person_id: str, tenant_id: str, now: datetime) -> int:
        return self._revoke(lambda t: t.person_id == person_id and t.tenant_id == tenant_id, now)


class FakeRevocations:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(self, row: dict[str, Any]) -> None:
        self.state.revocations.append(dict(row))

    def prune(self, before: datetime) -> None:
        self.state.revocations = [r for r in self.state.revocations if r["not_before"] >= before]


class FakeMfa:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def factor(self, person_id: str, *, for_update: bool = False) -> Any:
        return copy.deepcopy(self.state.factors.get(person_id))

    def start_factor(self, person_id: str, sealed_secret: str, now: datetime) -> None:
        held = self.state.factors.get(person_id)
        if held is not None and held.confirmed_at is not None:
            return  # the real upsert leaves a confirmed authenticator alone
        self.state.factors[person_id] = SimpleNamespace(
            person_id=person_id,
            sealed_secret=sealed_secret,
            created_at=now,
            confirmed_at=None,
            last_step=None,
            reset_at=held.reset_at if held else None,
        )

    def confirm_factor(self, person_id: str, step: int, now: datetime) -> None:
        factor = self.state.factors[person_id]
        factor.confirmed_at, factor.last_step, factor.reset_at = now, step, None

    def set_last_step(self, person_id: str, step: int) -> None:
        self.state.factors[person_id].last_step = step

    def replace_recovery_codes(self, person_id: str, hashes: Sequence[str], now: datetime) -> None:
        self.state.recovery_codes[person_id] = dict.fromkeys(hashes)

    def use_recovery_code(self, person_id: str, code_hash: str, now: datetime) -> bool:
        codes = self.state.recovery_codes.get(person_id, {})
        if code_hash not in codes or codes[code_hash] is not None:
            return False
        codes[code_hash] = now
        return True

    def add_challenge(self, challenge: Challenge) -> None:
        kept = copy.deepcopy(challenge)
        kept.secret = ""  # only its hash is stored
        self.state.challenges[challenge.id] = kept

    def challenge_for_update(self, challenge_id: str) -> Challenge | None:
        return copy.deepcopy(self.state.challenges.get(challenge_id))

    def save_challenge(self, challenge: Challenge) -> None:
        held = self.state.challenges[challenge.id]
        held.used_at, held.failures = challenge.used_at, challenge.failures


class FakeLinks:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def add(self, link: PersonLink) -> None:
        self.state.links[link.id] = copy.deepcopy(link)

    def supersede_live(self, person_id: str, purpose: str, now: datetime) -> None:
        for link in self.state.links.values():
            live = link.used_at is None and link.superseded_at is None
            if live and (link.person_id, link.purpose) == (person_id, purpose):
                link.superseded_at = now

    def issued_since(
        self, person_id: str, purpose: str, since: datetime, tenant_id: str | None = None
    ) -> list[datetime]:
        assert tenant_id is None, "invitations are not modelled here"
        return sorted(
            link.created_at
            for link in self.state.links.values()
            if (link.person_id, link.purpose) == (person_id, purpose) and link.created_at > since
        )


class FakeSecrets:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def get(self, name: str) -> str | None:
        return self.state.secrets.get(name)

    def add_if_missing(self, name: str, wrapped: str, now: datetime) -> None:
        self.state.secrets.setdefault(name, wrapped)


def identity_repositories(state: IdentityState) -> dict[str, Any]:
    """The names `IdentityUnit` declares (services/identity/storage/unit.py)."""
    return {
        "tenants": FakeTenants(state),
        "persons": FakePersons(state),
        "memberships": FakeMemberships(state),
        "throttle": FakeThrottle(state),
        "sign_ins": FakeSignInHistory(state),
        "audit": FakeAuditLog(state),
        "signing_keys": FakeSigningKeys(state),
        "refresh_tokens": FakeRefreshTokens(state),
        "revocations": FakeRevocations(state),
        "mfa": FakeMfa(state),
        "links": FakeLinks(state),
        "secrets": FakeSecrets(state),
    }


def identity_db(clock: Clock) -> FakeDatabase[IdentityState]:
    return FakeDatabase(clock, IdentityState(), identity_repositories)
