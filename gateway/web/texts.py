"""What the pages say, in French and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",
        "brand": "ecoach",
        "invite_title": "Join your organisation on ecoach",
        "invite_intro": "You have been invited to ecoach. If you are new here, choose your "
        "password: at least 12 characters, not a common one, without your name or email. If you "
        "already have an ecoach account, type its password to accept.",
        "password": "Password",
        "password_again": "The same password again",
        "accept": "Accept the invitation",
        "invite_done_new": "Welcome! Your account is ready: sign in with {email} and the "
        "password you chose.",
        "invite_done_existing": "Done: your account {email} now belongs to this organisation.",
        "reset_title": "Choose a new password",
        "reset_intro": "At least 12 characters, not a common one, without your name or email.",
        "new_password": "New password",
        "save_password": "Save the password",
        "reset_done": "Your password has been changed. You can sign in with it now.",
        "confirm_title": "Confirm your new email address",
        "confirm_intro": "Confirm that this address is yours: your ecoach account will use it "
        "to sign in and to receive its emails.",
        "confirm": "Confirm this address",
        "confirm_done": "Your email address has been changed. Sign in with the new one.",
        "calendar_title": "Confirm the address for your calendar",
        "calendar_intro": "Confirm that this address is yours: ecoach will send your session "
        "invitations and reminders there. You keep signing in with your account's address.",
        "calendar_done": "Done: your calendar invitations and reminders now go to this address.",
        "mismatch": "The two passwords differ.",
        "unavailable": "ecoach cannot be reached right now. Try again in a moment.",
        "not_found": "This page does not exist.",
    },
    "fr": {
        "lang": "fr",
        "brand": "ecoach",
        "invite_title": "Rejoignez votre organisation sur ecoach",
        "invite_intro": "Vous êtes invité·e sur ecoach. Si vous êtes nouveau ou nouvelle, "
        "choisissez votre mot de passe : au moins 12 caractères, pas un mot de passe courant, "
        "sans votre nom ni votre e-mail. Si vous avez déjà un compte ecoach, saisissez son mot "
        "de passe pour accepter.",
        "password": "Mot de passe",
        "password_again": "Le même mot de passe, à nouveau",
        "accept": "Accepter l'invitation",
        "invite_done_new": "Bienvenue ! Votre compte est prêt : connectez-vous avec {email} et "
        "le mot de passe choisi.",
        "invite_done_existing": "C'est fait : votre compte {email} appartient maintenant à "
        "cette organisation.",
        "reset_title": "Choisissez un nouveau mot de passe",
        "reset_intro": "Au moins 12 caractères, pas un mot de passe courant, sans votre nom ni "
        "votre e-mail.",
        "new_password": "Nouveau mot de passe",
        "save_password": "Enregistrer le mot de passe",
        "reset_done": "Votre mot de passe a été changé. Vous pouvez vous connecter avec.",
        "confirm_title": "Confirmez votre nouvelle adresse e-mail",
        "confirm_intro": "Confirmez que cette adresse est bien la vôtre : votre compte ecoach "
        "l'utilisera pour la connexion et ses e-mails.",
        "confirm": "Confirmer cette adresse",
        "confirm_done": "Votre adresse e-mail a été changée. Connectez-vous avec la nouvelle.",
        "calendar_title": "Confirmez l'adresse de votre agenda",
        "calendar_intro": "Confirmez que cette adresse est bien la vôtre : ecoach y enverra les "
        "invitations et les rappels de vos séances. Vous continuez à vous connecter avec "
        "l'adresse de votre compte.",
        "calendar_done": "C'est fait : vos invitations d'agenda et vos rappels arrivent "
        "désormais à cette adresse.",
        "mismatch": "Les deux mots de passe diffèrent.",
        "unavailable": "ecoach est injoignable pour le moment. Réessayez dans un instant.",
        "not_found": "Cette page n'existe pas.",
    },
}
