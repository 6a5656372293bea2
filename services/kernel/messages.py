"""What people read when something goes wrong, by error reason: msgids of the kernel's catalogue.

The gateway puts the caller's language in `google.rpc.LocalizedMessage`; a reason missing here
falls back to the code's generic text. The French texts are in
`services/kernel/translations/fr/LC_MESSAGES/messages.po` (README, "Translations").
"""

from __future__ import annotations

from services.kernel.i18n import N_, gettext, language_of

MESSAGES: dict[str, str] = {
    # generic, by code
    "INVALID_ARGUMENT": N_(
        "Some fields are missing or invalid. Check the highlighted fields and try again."
    ),
    "NOT_FOUND": N_("We could not find what you asked for. Check the link or identifier."),
    "ALREADY_EXISTS": N_("This already exists."),
    "PERMISSION_DENIED": N_(
        "You are not allowed to do this. Ask an administrator of your organisation."
    ),
    "UNAUTHENTICATED": N_("Your session is missing or has expired. Please sign in again."),
    "FAILED_PRECONDITION": N_("This cannot be done in the current state."),
    "RESOURCE_EXHAUSTED": N_("Too many attempts. Please wait a moment and try again."),
    "DEADLINE_EXCEEDED": N_("This took too long. Please try again."),
    "UNAVAILABLE": N_("The service is temporarily unavailable. Please try again in a moment."),
    "INTERNAL": N_("Something went wrong on our side. Please try again later."),
    # specific reasons
    "INVALID_CREDENTIALS": N_("The email or password is incorrect."),
    "ALREADY_DONE": N_(
        "This change was saved, but its confirmation was lost on the way. Reload the page to "
        "see it before doing it again."
    ),
    "FEED_THROTTLED": N_(
        "This calendar was fetched too often. Your calendar application will retry later."
    ),
    "SIGN_IN_THROTTLED": N_("Too many sign-in attempts. Wait a moment, then try again."),
    "TOO_MANY_INVITATIONS": N_(
        "Your organisation has sent this address too many invitations today. The invitation "
        "was not emailed; send it again later."
    ),
    "TOKEN_REVOKED": N_("Your access has changed or was withdrawn. Please sign in again."),
    "REFRESH_TOKEN_INVALID": N_("This session is not valid. Please sign in again."),
    "REFRESH_TOKEN_REUSED": N_(
        "For your security this session was ended, because its token was used twice. Please "
        "sign in again."
    ),
    "SESSION_ENDED": N_("This session has ended. Please sign in again."),
    "SESSION_EXPIRED": N_("This session has expired. Please sign in again."),
    "NOT_A_MEMBER": N_("You are not an active member of this organisation."),
    "TENANT_REQUIRED": N_("Choose an organisation to sign in to."),
    "LINK_INVALID": N_(
        "This link is not valid. Check that you copied it whole, or ask for a new one."
    ),
    "LINK_USED": N_("This link has already been used. Sign in, or ask for a new link."),
    "LINK_REVOKED": N_("This link has been replaced or withdrawn. Use the most recent email."),
    "LINK_EXPIRED": N_("This link has expired. Ask for a new one."),
    "EMAIL_TAKEN": N_("Another account already uses this email address."),
    "SEATS_EXHAUSTED": N_(
        "All the seats of this organisation are taken. Free one or ask for more."
    ),
    "TENANT_SUSPENDED": N_("This organisation's access to ecoach is suspended."),
    "NOT_PENDING": N_("Only a pending invitation can be sent again."),
    "ALREADY_MEMBER": N_("This person is already a member of the organisation."),
    "TENANT_SLUG_TAKEN": N_(
        "An organisation with this short name already exists. Choose another one."
    ),
    "TOKEN_INVALID": N_("Your session is not valid. Please sign in again."),
    "TOKEN_EXPIRED": N_("Your session has expired. Please sign in again."),
    "MEMBERSHIP_INACTIVE": N_("This membership is deactivated. Reactivate it first."),
    "MFA_CODE_INVALID": N_(
        "This code is not valid. Enter the code your authenticator app shows now, or a "
        "recovery code."
    ),
    "MFA_CODE_REUSED": N_(
        "This code was already used. Wait for the next one (at most 30 seconds)."
    ),
    "CHALLENGE_INVALID": N_("This sign-in step is not valid. Please sign in again."),
    "CHALLENGE_EXPIRED": N_(
        "This sign-in step has expired or was already used. Please sign in again."
    ),
    "MFA_REQUIRED": N_(
        "This organisation requires you to sign in with your authenticator app. Sign in to it "
        "again."
    ),
    "MFA_ALREADY_ENROLLED": N_("An authenticator app is already set up for your account."),
    "MFA_NOT_ENROLLED": N_("This person has no authenticator app to reset."),
    "OWN_ACCOUNT": N_("Another operator must do this for your own account."),
    "MFA_NOT_STARTED": N_("Start setting up your authenticator app first."),
    "OPERATOR_ACCOUNT": N_("An operator's account cannot be erased."),
    "ALREADY_ERASED": N_("This person's data has already been erased."),
    "MEMBERSHIP_ERASED": N_(
        "This person's data was erased; their membership cannot change any more."
    ),
    # nobody makes themselves a coach (issue 19)
    "SELF_ROLE_CHANGE": N_(
        "You cannot change the roles of your own membership. Ask another administrator."
    ),
    "COACHEE_ONLY": N_("Only the coachee of this space answers a proposed change of coach."),
    "NO_PENDING_COACH_CHANGE": N_("No change of coach awaits your agreement in this space."),
    "PROPOSED_COACH_UNAVAILABLE": N_(
        "The proposed coach can no longer coach here. Decline the proposal."
    ),
    "COACH_CHANGE_REPLACED": N_(
        "This proposal was replaced or answered meanwhile. Look at the space again."
    ),
    "EARLIER_CONTENT_NOT_SHARED": N_(
        "You joined this space after it started. Its content opens to you once the coachee agrees."
    ),
    # a space's lifecycle (SpaceService's ActivateSpace ... ArchiveSpace)
    "SPACE_MOVE_NOT_ALLOWED": N_(
        "The space's status does not allow this change: it may have changed meanwhile. Look "
        "at the space as it is now."
    ),
    "SPACE_MOVE_FORBIDDEN": N_("You may not make this change to the space."),
    "PERSON_NOT_FOUND": N_("We could not find this person."),
    "ERASURE_NOT_FOUND": N_("We could not find this erasure. Check the receipt."),
    "SERVICE_UNAVAILABLE": N_("A part of ecoach is not answering. Please try again in a moment."),
    # Scheduling's rules, as the person booking, moving, cancelling or joining reads them.
    "SLOT_TAKEN": N_("This time is no longer free. Choose another one."),
    "OUTSIDE_AVAILABILITY": N_(
        "This time is outside the coach's hours. Choose one among the free times."
    ),
    "TOO_SOON": N_("This time is too soon: the coach asks for more notice."),
    "BEYOND_HORIZON": N_(
        "This time is too far ahead: the coach's calendar is not open that far yet."
    ),
    "IN_THE_PAST": N_("This time has already passed."),
    "SPACE_NOT_ACTIVE": N_(
        "This can be done only while the coaching is running (not paused or ended)."
    ),
    "ENGAGEMENT_EXHAUSTED": N_("All the sessions of this coaching are used."),
    "NO_AVAILABILITY": N_("The coach has not opened their calendar yet."),
    "POLICY_LATE_RESCHEDULE": N_(
        "It is too close to the session to move it, under your organisation's rule: you can "
        "only cancel it now."
    ),
    "POLICY_REQUEST_ONE_SESSION": N_(
        "This close to the session, move only this one: your coach is asked to agree."
    ),
    "SESSION_STARTED": N_("This session has already started."),
    "SESSION_NOT_BOOKED": N_("This session is no longer booked."),
    "SESSION_CANCELLED": N_("This session is cancelled."),
    "REQUEST_PENDING": N_("A new time for this session already waits for your coach's answer."),
    "ROOM_NOT_OPEN": N_("The session's room is not open yet: it opens shortly before the start."),
    "ROOM_CLOSED": N_("The session's room is closed."),
    "NO_VIDEO_PROVIDER": N_("Your organisation has not set up video rooms."),
    # assessment
    "NO_ATTEMPT_LEFT": N_(
        "This questionnaire has been answered. Your coach can open it again for a new attempt."
    ),
    "RETAKE_NOT_NEEDED": N_(
        "This questionnaire can already be answered: no new attempt is needed."
    ),
    "INSTRUMENT_AUTHOR_ONLY": N_("Only the coach who wrote this questionnaire can change it."),
    "SPACE_COACH_ONLY": N_("Only the coaches of this space can do this."),
    "SPACE_COACHEE_ONLY": N_("Only the coachee of this space can do this."),
    "COACH_ONLY": N_("Only coaches can do this."),
    "COACH_OR_COACHEE_ONLY": N_("Only coaches and coachees can see questionnaires."),
    "TOO_MANY_RATERS": N_(
        "At most 30 people can be asked for feedback on one questionnaire: ask fewer people."
    ),
    "RATER_LINK_THROTTLED": N_("This link was opened too often. Wait a moment, then try again."),
    # the space's toolbox (assessment and content refuse a locked tool's target to the coachee)
    "TOOL_LOCKED": N_(
        "This tool is not open to you yet: your coach opens it as your coaching advances."
    ),
    # content
    "TENANT_ADMIN_ONLY": N_("Only your organisation's administrators can do this."),
    "OPERATOR_ONLY": N_("Only the platform's operators can do this."),
}


def localize(reason: str, code: str, locale: str) -> tuple[str, str]:
    """The language answered and the text of the reason (else of the code) in it."""
    lang = language_of(locale)
    msgid = MESSAGES.get(reason) or MESSAGES.get(code) or MESSAGES["INTERNAL"]
    return lang, gettext(lang, msgid)
