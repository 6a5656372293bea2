"""The one registry of RPC methods that accept a call without a token (rule 5, case c).

Each such method authenticates by its own secret (a password, an invitation link) or exposes
nothing private, and is throttled. The kernel refuses to serve a method declared public that is
missing here, and the isolation suite checks this list against the services.
"""

from __future__ import annotations

PUBLIC_METHODS: dict[str, str] = {
    "identity.sign_in": "authenticates by email and password",
    "identity.refresh": "authenticates by the refresh token's secret",
    "identity.sign_out": "authenticates by the refresh token's secret; ends only its session",
    "identity.get_signing_keys": "public halves of the access-token signing keys",
    "identity.ping": "liveness for health checks; reveals nothing",
    "spaces.ping": "liveness for health checks; reveals nothing",
    "scheduling.ping": "liveness for health checks; reveals nothing",
    "assessment.ping": "liveness for health checks; reveals nothing",
    "content.ping": "liveness for health checks; reveals nothing",
    "reporting.ping": "liveness for health checks; reveals nothing",
    "identity.request_password_reset": "answers the same whether or not the email exists",
    "identity.reset_password": "authenticates by the emailed link's secret",
    "identity.accept_invitation": "authenticates by the invitation link's secret (and, for an "
    "existing account, its password)",
    "identity.confirm_email_change": "authenticates by the secret mailed to the new address",
    "identity.verify_mfa": "authenticates by the sign-in challenge's secret and a code; "
    "throttled per person, and the challenge dies after 5 wrong codes",
    "identity.begin_mfa_enrolment": "authenticates by an enrolment challenge's secret",
    "identity.complete_mfa_enrolment": "authenticates by an enrolment challenge's secret and "
    "the new authenticator's code; throttled like verify_mfa",
    "identity.get_erasure_status": "authenticates by the erasure receipt's secret (256 bits)",
    "scheduling.get_calendar_feed": "authenticates by the feed URL's secret (256 bits, stored "
    "hashed, revocable); rate-limited by the web gateway",
    "assessment.get_rater_form": "authenticates by the 360 rater link's secret (256 bits, "
    "stored hashed); never uses it up; throttled per link and per client address",
    "assessment.submit_rater_answers": "authenticates by the 360 rater link's secret, used up "
    "by the one submission; throttled per link and per client address",
}


def is_public(service: str, method: str) -> bool:
    return f"{service}.{method}" in PUBLIC_METHODS
