"""What people read when something goes wrong, in French and English, by error reason.

The gateway puts the caller's language in `google.rpc.LocalizedMessage`; a reason missing here
falls back to the code's generic text.
"""

from __future__ import annotations

from typing import Literal

Locale = Literal["fr", "en"]
SUPPORTED_LOCALES: tuple[Locale, ...] = ("en", "fr")

MESSAGES: dict[str, dict[Locale, str]] = {
    # generic, by code
    "INVALID_ARGUMENT": {
        "en": "Some fields are missing or invalid. Check the highlighted fields and try again.",
        "fr": "Certains champs sont manquants ou invalides. Vérifiez-les et réessayez.",
    },
    "NOT_FOUND": {
        "en": "We could not find what you asked for. Check the link or identifier.",
        "fr": "Nous n'avons pas trouvé ce que vous cherchez. Vérifiez le lien ou l'identifiant.",
    },
    "ALREADY_EXISTS": {
        "en": "This already exists.",
        "fr": "Cet élément existe déjà.",
    },
    "PERMISSION_DENIED": {
        "en": "You are not allowed to do this. Ask an administrator of your organisation.",
        "fr": "Vous n'êtes pas autorisé à faire cela. Adressez-vous à un administrateur de "
        "votre organisation.",
    },
    "UNAUTHENTICATED": {
        "en": "Your session is missing or has expired. Please sign in again.",
        "fr": "Votre session est absente ou a expiré. Veuillez vous reconnecter.",
    },
    "FAILED_PRECONDITION": {
        "en": "This cannot be done in the current state.",
        "fr": "Cette action n'est pas possible dans l'état actuel.",
    },
    "RESOURCE_EXHAUSTED": {
        "en": "Too many attempts. Please wait a moment and try again.",
        "fr": "Trop de tentatives. Patientez un instant puis réessayez.",
    },
    "DEADLINE_EXCEEDED": {
        "en": "This took too long. Please try again.",
        "fr": "Cela a pris trop de temps. Veuillez réessayer.",
    },
    "UNAVAILABLE": {
        "en": "The service is temporarily unavailable. Please try again in a moment.",
        "fr": "Le service est momentanément indisponible. Réessayez dans un instant.",
    },
    "INTERNAL": {
        "en": "Something went wrong on our side. Please try again later.",
        "fr": "Une erreur s'est produite de notre côté. Réessayez plus tard.",
    },
    # specific reasons
    "INVALID_CREDENTIALS": {
        "en": "The email or password is incorrect.",
        "fr": "L'adresse e-mail ou le mot de passe est incorrect.",
    },
    "FEED_THROTTLED": {
        "en": "This calendar was fetched too often. Your calendar application will retry later.",
        "fr": "Ce calendrier a été consulté trop souvent. Votre agenda réessaiera plus tard.",
    },
    "SIGN_IN_THROTTLED": {
        "en": "Too many sign-in attempts. Wait a moment, then try again.",
        "fr": "Trop de tentatives de connexion. Patientez un instant, puis réessayez.",
    },
    "TOO_MANY_INVITATIONS": {
        "en": "Your organisation has sent this address too many invitations today. The "
        "invitation was not emailed; send it again later.",
        "fr": "Votre organisation a envoyé trop d'invitations à cette adresse aujourd'hui. "
        "L'invitation n'a pas été envoyée par e-mail ; renvoyez-la plus tard.",
    },
    "TOKEN_REVOKED": {
        "en": "Your access has changed or was withdrawn. Please sign in again.",
        "fr": "Votre accès a changé ou a été retiré. Veuillez vous reconnecter.",
    },
    "REFRESH_TOKEN_INVALID": {
        "en": "This session is not valid. Please sign in again.",
        "fr": "Cette session n'est pas valide. Veuillez vous reconnecter.",
    },
    "REFRESH_TOKEN_REUSED": {
        "en": "For your security this session was ended, because its token was used twice. "
        "Please sign in again.",
        "fr": "Par sécurité, cette session a été fermée car son jeton a été utilisé deux fois. "
        "Veuillez vous reconnecter.",
    },
    "SESSION_ENDED": {
        "en": "This session has ended. Please sign in again.",
        "fr": "Cette session est terminée. Veuillez vous reconnecter.",
    },
    "SESSION_EXPIRED": {
        "en": "This session has expired. Please sign in again.",
        "fr": "Cette session a expiré. Veuillez vous reconnecter.",
    },
    "NOT_A_MEMBER": {
        "en": "You are not an active member of this organisation.",
        "fr": "Vous n'êtes pas membre actif de cette organisation.",
    },
    "TENANT_REQUIRED": {
        "en": "Choose an organisation to sign in to.",
        "fr": "Choisissez l'organisation à laquelle vous connecter.",
    },
    "LINK_INVALID": {
        "en": "This link is not valid. Check that you copied it whole, or ask for a new one.",
        "fr": "Ce lien n'est pas valide. Vérifiez qu'il est complet, ou demandez-en un nouveau.",
    },
    "LINK_USED": {
        "en": "This link has already been used. Sign in, or ask for a new link.",
        "fr": "Ce lien a déjà été utilisé. Connectez-vous, ou demandez un nouveau lien.",
    },
    "LINK_REVOKED": {
        "en": "This link has been replaced or withdrawn. Use the most recent email.",
        "fr": "Ce lien a été remplacé ou retiré. Utilisez l'e-mail le plus récent.",
    },
    "LINK_EXPIRED": {
        "en": "This link has expired. Ask for a new one.",
        "fr": "Ce lien a expiré. Demandez-en un nouveau.",
    },
    "EMAIL_TAKEN": {
        "en": "Another account already uses this email address.",
        "fr": "Un autre compte utilise déjà cette adresse e-mail.",
    },
    "SEATS_EXHAUSTED": {
        "en": "All the seats of this organisation are taken. Free one or ask for more.",
        "fr": "Toutes les places de cette organisation sont prises. Libérez-en une ou "
        "demandez-en davantage.",
    },
    "TENANT_SUSPENDED": {
        "en": "This organisation's access to ecoach is suspended.",
        "fr": "L'accès de cette organisation à ecoach est suspendu.",
    },
    "NOT_PENDING": {
        "en": "Only a pending invitation can be sent again.",
        "fr": "Seule une invitation en attente peut être renvoyée.",
    },
    "ALREADY_MEMBER": {
        "en": "This person is already a member of the organisation.",
        "fr": "Cette personne est déjà membre de l'organisation.",
    },
    "TENANT_SLUG_TAKEN": {
        "en": "An organisation with this short name already exists. Choose another one.",
        "fr": "Une organisation porte déjà ce nom court. Choisissez-en un autre.",
    },
    "TOKEN_INVALID": {
        "en": "Your session is not valid. Please sign in again.",
        "fr": "Votre session n'est pas valide. Veuillez vous reconnecter.",
    },
    "TOKEN_EXPIRED": {
        "en": "Your session has expired. Please sign in again.",
        "fr": "Votre session a expiré. Veuillez vous reconnecter.",
    },
    "MEMBERSHIP_INACTIVE": {
        "en": "This membership is deactivated. Reactivate it first.",
        "fr": "Cette adhésion est désactivée. Réactivez-la d'abord.",
    },
    "MFA_CODE_INVALID": {
        "en": "This code is not valid. Enter the code your authenticator app shows now, or a "
        "recovery code.",
        "fr": "Ce code n'est pas valide. Saisissez le code affiché maintenant par votre "
        "application d'authentification, ou un code de secours.",
    },
    "MFA_CODE_REUSED": {
        "en": "This code was already used. Wait for the next one (at most 30 seconds).",
        "fr": "Ce code a déjà été utilisé. Attendez le suivant (30 secondes au plus).",
    },
    "CHALLENGE_INVALID": {
        "en": "This sign-in step is not valid. Please sign in again.",
        "fr": "Cette étape de connexion n'est pas valide. Veuillez vous reconnecter.",
    },
    "CHALLENGE_EXPIRED": {
        "en": "This sign-in step has expired or was already used. Please sign in again.",
        "fr": "Cette étape de connexion a expiré ou a déjà servi. Veuillez vous reconnecter.",
    },
    "MFA_REQUIRED": {
        "en": "This organisation requires you to sign in with your authenticator app. Sign in "
        "to it again.",
        "fr": "Cette organisation exige une connexion avec votre application "
        "d'authentification. Reconnectez-vous à elle.",
    },
    "MFA_ALREADY_ENROLLED": {
        "en": "An authenticator app is already set up for your account.",
        "fr": "Une application d'authentification est déjà configurée pour votre compte.",
    },
    "MFA_NOT_ENROLLED": {
        "en": "This person has no authenticator app to reset.",
        "fr": "Cette personne n'a pas d'application d'authentification à réinitialiser.",
    },
    "OWN_ACCOUNT": {
        "en": "Another operator must do this for your own account.",
        "fr": "Un autre opérateur doit le faire pour votre propre compte.",
    },
    "MFA_NOT_STARTED": {
        "en": "Start setting up your authenticator app first.",
        "fr": "Commencez d'abord la configuration de votre application d'authentification.",
    },
    "OPERATOR_ACCOUNT": {
        "en": "An operator's account cannot be erased.",
        "fr": "Le compte d'un opérateur ne peut pas être effacé.",
    },
    "ALREADY_ERASED": {
        "en": "This person's data has already been erased.",
        "fr": "Les données de cette personne ont déjà été effacées.",
    },
    "MEMBERSHIP_ERASED": {
        "en": "This person's data was erased; their membership cannot change any more.",
        "fr": "Les données de cette personne ont été effacées ; son adhésion ne peut plus changer.",
    },
    # nobody makes themselves a coach (issue 19)
    "SELF_ROLE_CHANGE": {
        "en": "You cannot change the roles of your own membership. Ask another administrator.",
        "fr": "Vous ne pouvez pas modifier les rôles de votre propre adhésion. Adressez-vous à "
        "un autre administrateur.",
    },
    "COACHEE_ONLY": {
        "en": "Only the coachee of this space answers a proposed change of coach.",
        "fr": "Seul le coaché de cet espace répond à une proposition de changement de coach.",
    },
    "NO_PENDING_COACH_CHANGE": {
        "en": "No change of coach awaits your agreement in this space.",
        "fr": "Aucun changement de coach n'attend votre accord dans cet espace.",
    },
    "PROPOSED_COACH_UNAVAILABLE": {
        "en": "The proposed coach can no longer coach here. Decline the proposal.",
        "fr": "Le coach proposé ne peut plus accompagner ici. Refusez la proposition.",
    },
    "COACH_CHANGE_REPLACED": {
        "en": "This proposal was replaced or answered meanwhile. Look at the space again.",
        "fr": "Cette proposition a été remplacée ou traitée entre-temps. Rouvrez l'espace.",
    },
    "EARLIER_CONTENT_NOT_SHARED": {
        "en": "You joined this space after it started. Its content opens to you once the "
        "coachee agrees.",
        "fr": "Vous avez rejoint cet espace en cours de route. Son contenu vous sera ouvert "
        "quand le coaché l'aura accepté.",
    },
    "PERSON_NOT_FOUND": {
        "en": "We could not find this person.",
        "fr": "Nous n'avons pas trouvé cette personne.",
    },
    "ERASURE_NOT_FOUND": {
        "en": "We could not find this erasure. Check the receipt.",
        "fr": "Nous n'avons pas trouvé cet effacement. Vérifiez le reçu.",
    },
    "SERVICE_UNAVAILABLE": {
        "en": "A part of ecoach is not answering. Please try again in a moment.",
        "fr": "Une partie d'ecoach ne répond pas. Réessayez dans un instant.",
    },
    # Scheduling's rules, as the person booking, moving, cancelling or joining reads them.
    "SLOT_TAKEN": {
        "en": "This time is no longer free. Choose another one.",
        "fr": "Cet horaire n'est plus libre. Choisissez-en un autre.",
    },
    "OUTSIDE_AVAILABILITY": {
        "en": "This time is outside the coach's hours. Choose one among the free times.",
        "fr": "Cet horaire est en dehors des disponibilités du coach. Choisissez parmi les "
        "horaires libres.",
    },
    "TOO_SOON": {
        "en": "This time is too soon: the coach asks for more notice.",
        "fr": "Cet horaire est trop proche : le coach demande un délai de prévenance plus long.",
    },
    "BEYOND_HORIZON": {
        "en": "This time is too far ahead: the coach's calendar is not open that far yet.",
        "fr": "Cet horaire est trop lointain : l'agenda du coach n'est pas encore ouvert "
        "jusque-là.",
    },
    "IN_THE_PAST": {
        "en": "This time has already passed.",
        "fr": "Cet horaire est déjà passé.",
    },
    "SPACE_NOT_ACTIVE": {
        "en": "Sessions are booked only while the coaching is running (not paused or ended).",
        "fr": "Les séances se réservent seulement pendant l'accompagnement (ni en pause, ni "
        "terminé).",
    },
    "ENGAGEMENT_EXHAUSTED": {
        "en": "All the sessions of this coaching are used.",
        "fr": "Toutes les séances de cet accompagnement sont utilisées.",
    },
    "NO_AVAILABILITY": {
        "en": "The coach has not opened their calendar yet.",
        "fr": "Le coach n'a pas encore ouvert son agenda.",
    },
    "POLICY_LATE_RESCHEDULE": {
        "en": "It is too close to the session to move it, under your organisation's rule: you "
        "can only cancel it now.",
        "fr": "La séance est trop proche pour la déplacer, selon la règle de votre organisation : "
        "vous pouvez seulement l'annuler.",
    },
    "POLICY_REQUEST_ONE_SESSION": {
        "en": "This close to the session, move only this one: your coach is asked to agree.",
        "fr": "Si près de la séance, déplacez seulement celle-ci : votre coach doit l'accepter.",
    },
    "SESSION_STARTED": {
        "en": "This session has already started.",
        "fr": "Cette séance a déjà commencé.",
    },
    "SESSION_NOT_BOOKED": {
        "en": "This session is no longer booked.",
        "fr": "Cette séance n'est plus réservée.",
    },
    "SESSION_CANCELLED": {
        "en": "This session is cancelled.",
        "fr": "Cette séance est annulée.",
    },
    "REQUEST_PENDING": {
        "en": "A new time for this session already waits for your coach's answer.",
        "fr": "Un nouvel horaire pour cette séance attend déjà la réponse de votre coach.",
    },
    "ROOM_NOT_OPEN": {
        "en": "The session's room is not open yet: it opens shortly before the start.",
        "fr": "La salle de la séance n'est pas encore ouverte : elle ouvre peu avant le début.",
    },
    "ROOM_CLOSED": {
        "en": "The session's room is closed.",
        "fr": "La salle de la séance est fermée.",
    },
    "NO_VIDEO_PROVIDER": {
        "en": "Your organisation has not set up video rooms.",
        "fr": "Votre organisation n'a pas configuré de salles vidéo.",
    },
}


def localize(reason: str, code: str, locale: str) -> tuple[Locale, str]:
    lang: Locale = "fr" if locale.lower().startswith("fr") else "en"
    entry = MESSAGES.get(reason) or MESSAGES.get(code) or MESSAGES["INTERNAL"]
    return lang, entry[lang]
