"""Adding members (one, or a CSV file), invitation mails and their caps, accepting."""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime, timedelta
from typing import Any

from services.contracts import identity as c
from services.kernel.caller import Caller
from services.kernel.crypto import derive_link_token, token_hash
from services.kernel.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    ResourceExhausted,
    Unauthenticated,
    invalid,
)
from services.kernel.runtime.mailer import Mailer
from services.kernel.timezones import check_time_zone

from ..adapters.passwords import Passwords
from ..domain import access, throttle
from ..domain.credentials import INVITATION, PersonLink, check_password
from ..domain.model import (
    PENDING,
    Membership,
    Person,
    Tenant,
    check_email,
    check_roles,
    normalize_email,
)
from ..domain.roster import parse_roster
from ..domain.throttle import ThrottlePolicy
from ..storage.unit import Db, IdentityUnit
from .common import LinkSettings, audit, audit_row, retry_seconds, standing_in, visible_member
from .links import link_key, link_token, live_link
from .throttling import password_matches
from .views import member_view, membership_changed


def add_member(
    db: Db, links: LinkSettings, caller: Caller, request: c.AddMemberRequest
) -> c.AddMemberResponse:
    access.require_tenant_visible(caller, request.tenant_id)
    email = check_email(request.email)
    roles = check_roles([r.value for r in request.roles])
    if request.time_zone is not None:
        check_time_zone(request.time_zone)
    with db.unit_of_work() as uow:
        standing_in(uow, caller, request.tenant_id).require_admin()
        tenant = uow.tenants.get_for_update(request.tenant_id)  # serialises seat counting
        if tenant is None:
            raise access.tenant_not_found()
        inviter = _Inviter(uow, links, tenant, [email])
        inviter.actor = access.person(caller).person_id
        membership, outcome = inviter.invite(
            email, roles, request.display_name, request.locale, request.time_zone
        )
        if outcome == ALREADY_MEMBER:
            raise AlreadyExists("This person is already a member.", reason="ALREADY_MEMBER")
        inviter.write()
    if membership.id in inviter.held:  # committed: the membership stays, pending, unmailed
        raise too_many_invitations(inviter.held[membership.id], added=membership.id)
    return c.AddMemberResponse(
        member_id=membership.id,
        tenant_id=membership.tenant_id,
        email=email,
        roles=[c.Role(r) for r in membership.roles],
    )


ADDED, ALREADY_INVITED, ALREADY_MEMBER = "added", "already_invited", "already_member"


# Invitation mails one tenant may send one address in a window (AddMember, ImportMembers,
# ResendInvitation): enough for a lost mail, too few to make ecoach a way to flood someone's
# inbox. Beyond, the membership is still recorded, pending, the admin is told, and resends the
# invitation later. The count is the tenant's own: telling an admin how often other
# organisations invited an address would tell them who else works with that person.
INVITATIONS_PER_WINDOW = 5


# All tenants together (several admins flooding one inbox): beyond this the invitation is
# recorded but silently not mailed (an error would reveal the other tenants' invitations). Only
# operators create tenants, so this is a backstop, not the first line.
INVITATIONS_PER_WINDOW_ALL_TENANTS = 20


INVITATIONS_WINDOW = timedelta(hours=24)


def too_many_invitations(wait: timedelta, added: str = "") -> ResourceExhausted:
    """RESOURCE_EXHAUSTED TOO_MANY_INVITATIONS, with the wait (and the member id, when the
    membership was recorded all the same)."""
    seconds = retry_seconds(wait)
    done = "The member was added, but their " if added else "The "
    return ResourceExhausted(
        f"{done}invitation email was not sent: this organisation has sent this address "
        f"{INVITATIONS_PER_WINDOW} invitations in the last "
        f"{int(INVITATIONS_WINDOW.total_seconds() // 3600)} hours. "
        f"Resend the invitation in {seconds} s.",
        reason="TOO_MANY_INVITATIONS",
        metadata={"retry_after_seconds": str(seconds), **({"member_id": added} if added else {})},
    )


class _Inviter:
    """Invites people into one tenant (locked by the caller) within the caller's transaction,
    one person or a whole file alike: a new email creates the person (without a password);
    either way the membership is pending until they accept with the emailed link. It reads what
    it needs in a few statements up front, decides row by row in memory (a refused row leaves
    nothing behind), and `write` adds everything in one statement per table."""

    def __init__(
        self,
        uow: IdentityUnit,
        links: LinkSettings,
        tenant: Tenant,
        emails: list[str],
    ) -> None:
        self.uow, self.links, self.tenant = uow, links, tenant
        self.now = uow.clock.now()
        keys = sorted({normalize_email(e) for e in emails})
        uow.persons.lock_emails(keys)  # concurrent additions of one email are serialised
        self.persons = uow.persons.by_email_keys(keys)
        self.memberships = uow.memberships.of_persons_in(
            tenant.id, [p.id for p in self.persons.values()]
        )
        self.seats_used = uow.memberships.seats_used(tenant.id)
        # Invitations already mailed to these people, by this tenant and by all (the caps).
        known, since = [p.id for p in self.persons.values()], self.now - INVITATIONS_WINDOW
        self.invited_here = uow.links.issued_since_to_many(
            known, INVITATION, since, tenant_id=tenant.id
        )
        self.invited = uow.links.issued_since_to_many(known, INVITATION, since)
        self.held: dict[str, timedelta] = {}  # member id -> wait: added, but not mailed
        self.link_key = link_key(uow, links.master, self.now)
        self.new_persons: list[Person] = []
        self.new_memberships: list[Membership] = []
        self.new_links: list[PersonLink] = []
        self.events: list[Any] = []
        self.actor: str | None = None  # who invites, for the audit log

    def invite(
        self,
        email: str,
        roles: tuple[str, ...],
        display_name: str,
        locale: str | None,
        time_zone: str | None,
        cohort: tuple[str | None, str | None, str | None] = (None, None, None),
    ) -> tuple[Membership, str]:
        """An existing membership is left as it is (its cohort too: SetMemberAttributes
        changes it)."""
        key = normalize_email(email)
        person = self.persons.get(key)
        existing = self.memberships.get(person.id) if person else None
        if existing is not None:
            # Adding again while pending answers the same.
            return existing, ALREADY_INVITED if existing.status == PENDING else ALREADY_MEMBER
        self.tenant.check_seat_for_one_more(self.seats_used)
        created = person is None
        if person is None:
            person = Person.create(
                email=email,
                display_name=display_name,
                locale=locale or self.tenant.default_locale,
                time_zone=time_zone or self.tenant.default_time_zone,
                now=self.now,
            )
        membership = Membership.pending_for(self.tenant.id, person, email, roles, self.now)
        membership.set_cohort(*cohort, self.now)
        if created:
            self.persons[key] = person
            self.new_persons.append(person)
        self.memberships[person.id] = membership
        self.new_memberships.append(membership)
        self.events.append(membership_changed(membership, "pending"))
        self.seats_used += 1
        here = self.invited_here.setdefault(person.id, [])
        everywhere = self.invited.setdefault(person.id, [])
        wait = throttle.wait_for_cap(here, INVITATIONS_PER_WINDOW, INVITATIONS_WINDOW, self.now)
        if wait > timedelta(0):
            self.held[membership.id] = wait  # recorded; ResendInvitation mails it later
            return membership, ADDED
        if _flooded(everywhere, self.now):
            return membership, ADDED  # recorded, silently unmailed: see the cap's comment
        link, issued = _invitation_link(self.link_key, self.links, membership, self.now)
        self.new_links.append(link)
        self.events.append(issued)
        here.append(self.now)
        everywhere.append(self.now)
        return membership, ADDED

    def write(self) -> None:
        self.uow.persons.add_many(self.new_persons)
        self.uow.memberships.add_many(self.new_memberships)
        self.uow.links.add_many(self.new_links)
        self.uow.record_many(self.events)
        self.uow.audit.add_many(
            [
                audit_row(self.now, "member.pending", m.tenant_id, self.actor, m.id)
                for m in self.new_memberships
            ]
        )


def _flooded(sent: list[datetime], now: datetime) -> bool:
    """All tenants together have mailed this address as many invitations as one day allows."""
    cap = INVITATIONS_PER_WINDOW_ALL_TENANTS
    return throttle.wait_for_cap(sent, cap, INVITATIONS_WINDOW, now) > timedelta(0)


def _invitation_link(
    link_key: bytes, links: LinkSettings, membership: Membership, now: datetime
) -> tuple[PersonLink, c.InvitationIssued]:
    """A new invitation link for a pending membership and the event after which it is mailed
    (identity's own handler of identity.invitation_issued); only its hash is stored."""
    link = PersonLink.new(
        INVITATION, membership.person_id, now, links.invitation_ttl, detail=membership.id
    )
    link.token_hash = token_hash(derive_link_token(link_key, link.purpose, link.id, link.nonce))
    issued = c.InvitationIssued(
        link_id=link.id,
        member_id=membership.id,
        tenant_id=membership.tenant_id,
        person_id=membership.person_id,
        expires_at=link.expires_at,
    )
    return link, issued


def _reinvite(uow: IdentityUnit, links: LinkSettings, membership: Membership) -> None:
    """Re-sending: a new link for a pending membership, and the previous one dies. Refused
    beyond the per-address cap of invitation mails (the address is locked while counting)."""
    now = uow.clock.now()
    person = uow.persons.get(membership.person_id)
    assert person is not None
    uow.persons.lock_emails([person.email_key])
    since = now - INVITATIONS_WINDOW
    here = uow.links.issued_since(person.id, INVITATION, since, tenant_id=membership.tenant_id)
    wait = throttle.wait_for_cap(here, INVITATIONS_PER_WINDOW, INVITATIONS_WINDOW, now)
    if wait > timedelta(0):
        raise too_many_invitations(wait)
    if _flooded(uow.links.issued_since(person.id, INVITATION, since), now):
        return  # the previous link stays valid; nothing tells the admin why (the cap's comment)
    uow.links.supersede_for(INVITATION, membership.id, now)
    link, issued = _invitation_link(link_key(uow, links.master, now), links, membership, now)
    uow.links.add(link)
    uow.record(issued)


def resend_invitation(
    db: Db, links: LinkSettings, caller: Caller, request: c.MemberRef
) -> c.Member:
    with db.unit_of_work() as uow:
        standing = standing_in(uow, caller, request.tenant_id)
        m = visible_member(uow, standing, request.tenant_id, request.member_id, for_update=True)
        standing.require_admin()
        if m.status != PENDING:
            raise FailedPrecondition(
                "Only a pending invitation can be sent again.", reason="NOT_PENDING"
            )
        _reinvite(uow, links, m)
        audit(uow, "invitation.resent", m.tenant_id, standing.who.person_id, m.id)
        person = uow.persons.get(m.person_id)
    return member_view(m, person, cohort=True)


def send_invitation_mail(
    db: Db, links: LinkSettings, mailer: Mailer, event: c.InvitationIssued
) -> None:
    found = live_link(db, links, event.link_id)
    if found is None:
        return
    _, person, token = found
    with db.read_only() as uow:
        membership = uow.memberships.get(event.tenant_id, event.member_id)
        tenant = uow.tenants.get(event.tenant_id)
    if membership is None or tenant is None or membership.status != PENDING:
        return  # accepted or revoked meanwhile
    mailer.send(
        membership.invited_email,
        person.locale,
        "invitation",
        name=person.display_name or membership.invited_email,
        tenant=tenant.name,
        link=f"{links.public_url.rstrip('/')}/invite/{token}",
        days=str(links.invitation_ttl.days),
    )


def accept_invitation(
    db: Db,
    passwords: Passwords,
    links: LinkSettings,
    common: frozenset[str],
    request: c.AcceptInvitationRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.AcceptInvitationResponse:
    """A new account sets its password; an existing one proves it with its current password
    (throttled like sign-in) and is never given a new one. Accepting gives no token: signing
    in, with a code if the person uses MFA, comes next."""
    with db.unit_of_work() as uow:  # read only: the slow hash runs outside any transaction
        now = uow.clock.now()
        link = uow.links.by_token_hash(token_hash(request.token))
        if link is not None and (
            link.purpose != INVITATION
            or not hmac.compare_digest(link_token(uow, links, link, now), request.token)
        ):
            link = None
        if link is None:
            raise FailedPrecondition("This link is not valid.", reason="LINK_INVALID")
        person = uow.persons.get(link.person_id)
        assert person is not None
        new_account = person.password_hash is None
        link.check_usable(now)  # used, replaced or expired: refused before anything else
    if new_account:
        check_password(
            request.password,
            email=person.email,
            display_name=person.display_name,
            common=common,
            field="password",
        )
        new_hash: str | None = passwords.hash(request.password)
    else:
        if not password_matches(db, passwords, person, request.password, source, policy):
            raise Unauthenticated("The password is incorrect.", reason="INVALID_CREDENTIALS")
        new_hash = None
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        link = uow.links.by_token_hash(token_hash(request.token))  # locked now
        assert link is not None and link.detail is not None
        link.use(now)  # a concurrent acceptance got there first: refused
        membership = uow.memberships.by_id(link.detail, for_update=True)
        if membership is None or membership.status != PENDING:
            raise FailedPrecondition("This invitation was withdrawn.", reason="LINK_REVOKED")
        before = membership.snapshot()
        membership.accept(now)
        uow.memberships.save(membership)
        what = membership.change_since(before)
        if what is not None:
            uow.record(membership_changed(membership, what))
            audit(uow, f"member.{what}", membership.tenant_id, person.id, membership.id)
        if new_hash is not None:
            uow.persons.set_password(person.id, new_hash, now)
        uow.links.mark_used(link)
    return c.AcceptInvitationResponse(
        tenant_id=membership.tenant_id,
        member_id=membership.id,
        email=person.email,
        new_account=new_account,
    )


UNMAILED = (
    "added, but the invitation was not emailed: this organisation has sent this address too "
    "many invitations in the last 24 hours; resend it later"
)


def import_members(
    db: Db, links: LinkSettings, caller: Caller, request: c.ImportMembersRequest
) -> c.ImportMembersResponse:
    """A CSV of people, in one transaction: every good row added, every bad one reported with
    its line; rows already in the tenant are reported, never added twice."""
    access.require_tenant_visible(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        standing_in(uow, caller, request.tenant_id).require_admin()
        try:
            data = base64.b64decode(request.csv_base64, validate=True)
        except binascii.Error:
            raise invalid(csv="is not base64") from None
        rows, rejected = parse_roster(data)
        tenant = uow.tenants.get_for_update(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        counts = {ADDED: 0, ALREADY_MEMBER: 0, ALREADY_INVITED: 0}
        report = [c.RejectedRow(line=r.line, email=r.email, reason=r.reason) for r in rejected]
        inviter = _Inviter(uow, links, tenant, [row.email for row in rows])
        inviter.actor = access.person(caller).person_id
        held = 0
        for row in rows:
            try:
                membership, outcome = inviter.invite(
                    row.email, row.roles, row.name, row.locale, row.time_zone, row.cohort
                )
            except DomainError as exc:
                report.append(c.RejectedRow(line=row.line, email=row.email, reason=exc.message))
                continue
            counts[outcome] += 1
            if outcome != ADDED:
                reason = "already invited" if outcome == ALREADY_INVITED else "already a member"
                report.append(c.RejectedRow(line=row.line, email=row.email, reason=reason))
            elif membership.id in inviter.held:
                held += 1
                report.append(c.RejectedRow(line=row.line, email=row.email, reason=UNMAILED))
        inviter.write()
    refused = len(report) - counts[ALREADY_MEMBER] - counts[ALREADY_INVITED] - held
    return c.ImportMembersResponse(
        added=counts[ADDED],
        already_members=counts[ALREADY_MEMBER],
        already_invited=counts[ALREADY_INVITED],
        rejected=refused,
        rows=sorted(report, key=lambda r: r.line),
    )
