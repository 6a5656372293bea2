"""360 feedback: the coachee asks raters (by address and relationship) for feedback on an
assignment; each is mailed a one-time link; the link opens the questionnaire (as often as the
rater likes) and takes one submission, with no account. The coachee and the space's coaches see
the answers by group only (domain/feedback.py); anyone else learns nothing (NOT_FOUND).

A link's token is derived from the rater's row with the assignment's data key and kept hashed
(rule 8); the address is sealed with the same key and deleted once answered or expired
(ADR 0014). The mail is sent after the commit, from the rater_invited event (rule 4).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime

from services.contracts import assessment as c
from services.contracts.identity import ContactDetails
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey, SecretKey, derive_link_token, token_hash
from services.kernel.errors import FailedPrecondition, PermissionDenied
from services.kernel.ids import new_id
from services.kernel.runtime.mailer import Mailer

from ..adapters.documents import document_of
from ..domain.assignments import SUBMITTED, Assignment, Relation, require_active
from ..domain.feedback import SELF, RaterAnswers, feedback
from ..domain.raters import (
    ANSWERED,
    EXPIRED,
    INVITED,
    MAX_RATERS,
    PURPOSE,
    Rater,
    link_invalid,
)
from ..domain.scoring import check_answers
from ..mails import rater_link
from ..storage.unit import AssessmentUnit, Db
from .access import access
from .views import line, results_of_scores

# person ids -> their contact details (identity's answer; erased or unknown people are absent)
Contacts = Callable[[list[str]], list[ContactDetails]]


def _token(key: SecretKey, rater: Rater) -> str:
    return derive_link_token(key.raw, PURPOSE, rater.id, rater.nonce)


def _counts(assignment_id: str, raters: list[Rater]) -> c.RaterCounts:
    return c.RaterCounts(
        assignment_id=assignment_id,
        invited=sum(r.status == INVITED for r in raters),
        answered=sum(r.status == ANSWERED for r in raters),
        expired=sum(r.status == EXPIRED for r in raters),
    )


def _event(kind: type[c.RaterEvent], a: Assignment, r: Rater, now: datetime) -> c.RaterEvent:
    """Ids and state only: never the address, the group or the answers."""
    return kind(
        assignment_id=a.id,
        tenant_id=a.tenant_id,
        space_id=a.space_id,
        rater_id=r.id,
        status=r.status,
        updated_at=now,
    )


def invite_raters(
    db: Db, master: MasterKey, caller: Caller, request: c.InviteRatersRequest
) -> c.RaterCounts:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        assignment, relation = access(uow, master, who, request.assignment_id, for_update=True)
        if relation != Relation.COACHEE:
            raise PermissionDenied(
                "Only the space's coachee asks for feedback.", reason="SPACE_COACHEE_ONLY"
            )
        space = uow.spaces.get(assignment.space_id)
        assert space is not None
        require_active(space)
        if uow.raters.count_of(assignment.id) + len(request.raters) > MAX_RATERS:
            raise FailedPrecondition(
                f"At most {MAX_RATERS} raters per assessment.", reason="TOO_MANY_RATERS"
            )
        key = uow.assignments.unlocked(master).key_of(assignment)
        now = uow.clock.now()
        for invite in request.raters:
            rater = Rater.new(
                new_id("rtr"),
                assignment.id,
                assignment.tenant_id,
                invite.group,
                invite.email,
                who.locale,
                now,
            )
            rater.token_hash = token_hash(_token(key, rater))
            uow.raters.add(rater, key)
            uow.record(_event(c.RaterInvited, assignment, rater, now))
        found = uow.raters.of_assignment(assignment.id)
    return _counts(assignment.id, found)


def send_invitation(
    db: Db,
    master: MasterKey,
    contacts: Contacts,
    mailer: Mailer,
    public_url: str,
    event: c.RaterInvited,
) -> None:
    """Open the address, derive the link again, commit, then send (rule 4). Nothing is sent for
    a link no longer live, nor for a coachee since erased."""
    with db.read_only() as uow:
        rater = uow.raters.get(event.rater_id)
        assignment = uow.assignments.unlocked(master).get(event.assignment_id)
        if rater is None or assignment is None or not rater.is_live(uow.clock.now()):
            return
        key = uow.assignments.key_of(assignment)
        email = uow.raters.email_of(rater.id, key)
        token = _token(key, rater)
    coachee = next(iter(contacts([assignment.coachee_person_id])), None)
    if email is None or coachee is None:
        return
    locale = coachee.locale or rater.locale
    title = assignment.instrument.title
    mailer.send(
        email,
        locale,
        "rater_invitation",
        name=coachee.display_name or coachee.email,
        title=title.fr if locale.startswith("fr") else title.en,
        until=rater.expires_at.date().isoformat(),
        link=rater_link(public_url, token),
    )


def _rater_of(
    uow: AssessmentUnit, master: MasterKey, token: str, *, for_update: bool = False
) -> tuple[Rater, Assignment, SecretKey]:
    """The live rater `token` opens, its assignment and the key; FAILED_PRECONDITION
    (LINK_INVALID) for an unknown, used or expired link alike."""
    rater = uow.raters.by_token_hash(token_hash(token), for_update=for_update)
    assignment = (
        uow.assignments.unlocked(master).get(rater.assignment_id) if rater is not None else None
    )
    if rater is None or assignment is None:
        raise link_invalid()
    key = uow.assignments.key_of(assignment)
    if not hmac.compare_digest(_token(key, rater), token):
        raise link_invalid()
    rater.require_live(uow.clock.now())
    return rater, assignment, key


def get_rater_form(db: Db, master: MasterKey, request: c.RaterTokenRequest) -> c.RaterForm:
    """What the link opens; never uses it up."""
    with db.read_only() as uow:
        rater, assignment, _ = _rater_of(uow, master, request.token)
    return c.RaterForm(
        group=rater.group,
        expires_at=rater.expires_at,
        document=document_of(assignment.instrument),
    )


def submit_rater_answers(
    db: Db, master: MasterKey, request: c.RaterAnswersRequest
) -> c.RaterReceipt:
    """The one submission the link allows: every required item answered; the link is used up
    and the address deleted in the same transaction."""
    with db.unit_of_work() as uow:
        rater, assignment, key = _rater_of(uow, master, request.token, for_update=True)
        kept = check_answers(assignment.instrument, request.answers, complete=True)
        now = uow.clock.now()
        rater.answer(kept, now)
        uow.raters.save(rater, key)
        uow.record(_event(c.RaterAnswered, assignment, rater, now))
    assert rater.answered_at is not None
    return c.RaterReceipt(answered_at=rater.answered_at)


def get_feedback(db: Db, master: MasterKey, caller: Caller, request: c.AssignmentRef) -> c.Feedback:
    """The coachee's latest submitted attempt and the raters' answers by group, per
    domain/feedback.py; for the coachee and the space's coaches only."""
    who = require_person(caller)
    with db.read_only() as uow:
        assignment, _ = access(uow, master, who, request.assignment_id)
        key = uow.assignments.key_of(assignment)
        raters = uow.raters.of_assignment(assignment.id, key)
        # the coachee's latest submitted answers: the one attempt opened
        numbers = [a.number for a in assignment.attempts if a.status == SUBMITTED]
        latest = uow.assignments.attempt_of(assignment, numbers[-1]) if numbers else None
        own = latest.answers if latest is not None else None
    submitted = [
        RaterAnswers(r.group, r.answers) for r in raters if r.status == ANSWERED and r.answers
    ]
    if own is not None:
        submitted.append(RaterAnswers(SELF, own))
    seen = feedback(assignment.instrument, submitted)
    instrument = assignment.instrument
    groups = []
    for g in ([seen.own] if seen.own else []) + list(seen.groups):
        groups.append(
            c.FeedbackGroup(
                group=g.group,
                count=g.count,
                results=results_of_scores(instrument, g.scores),
                comments=[
                    c.GroupComment(
                        item_id=item_id, prompt=line(instrument.item(item_id).prompt), texts=list(t)
                    )
                    for item_id, t in g.comments
                ],
            )
        )
    return c.Feedback(
        assignment_id=assignment.id,
        groups=groups,
        hidden=seen.hidden,
        raters=_counts(assignment.id, raters),
    )


def expire_links(db: Db) -> int:
    """Links past their expiry, unanswered: expired and their addresses deleted (the service's
    timer). Returns how many."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        expired = uow.raters.expire(now)
        for rater_id, assignment_id, tenant_id, space_id in expired:
            uow.record(
                c.RaterExpired(
                    assignment_id=assignment_id,
                    tenant_id=tenant_id,
                    space_id=space_id,
                    rater_id=rater_id,
                    status=EXPIRED,
                    updated_at=now,
                )
            )
    return len(expired)
