"""360 feedback in the web app (issue 22, ADR 0014).

The rater's page, `/feedback/<token>`: the link the assessment service mails to each rater
(services/assessment/mails.py, `rater_link`). No account and no signed-in session: the token in
the path is the rater's only key, and is treated as the mailed links' secrets are (links.py):
it goes nowhere but to the gRPC gateway (`GetRaterForm`, `SubmitRaterAnswers`, public methods
the service throttles per link and per address), the pages send no Referer (app.py's
`Referrer-Policy: no-referrer`, for every page) and nothing logs it. A GET only shows the
questionnaire, in the page's language (`?lang=`, the browser's Accept-Language), as often as
it is opened: mail scanners must not use the link up. The POST sends the answers, once; a
refused one shows each item's problem beside it and keeps what was typed. An unknown, used or
expired link (or a malformed one) gets one and the same page saying the link is no longer
valid, which tells nothing of why.

What the coachee's and coach's questionnaire pages (questionnaires.py) show of a 360: the
raters' counts, the coachee's form to invite raters (read here, sent with `InviteRaters`), and
the results by rater group exactly as `GetFeedback` gives them: which group is shown, merged or
hidden is the service's rule (services/assessment/domain/feedback.py), never the page's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC

import grpc
from babel.dates import format_date
from flask import Blueprint, make_response, request
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.pb import assessment_pb2 as apb

from . import questionnaire_forms as qf
from .clients import authed, call
from .i18n import _, language
from .pages import Page, clients, failed, field_errors, render, well_formed

feedback = Blueprint("feedback", __name__)

# The rater groups a coachee chooses from (the API's RaterGroup), in the form's order.
RATER_GROUPS = {
    "manager": apb.MANAGER,
    "peer": apb.PEER,
    "direct_report": apb.DIRECT_REPORT,
    "other": apb.OTHER,
}
# Addresses in the invite form: one a line (commas, semicolons and spaces separate them too).
SEPARATORS = re.compile(r"[\s,;]+")
# A field of InviteRatersRequest as the services name it (`raters.2.email`) or the gRPC
# gateway does (`raters[2].group`).
RATER_FIELD = re.compile(r"^raters(?:\[(\d+)\]|\.(\d+))?(?:\.(email|group))?$")


def group_label(group: str) -> str:
    """A group of `GetFeedback` (or a rater group's API name) as the page says it."""
    return {
        "self": _("Self-assessment"),
        "manager": _("Manager"),
        "peer": _("Peers"),
        "direct_report": _("Direct reports"),
        "other": _("Others"),
        "others": _("Others"),
    }.get(group, group)


def group_choices() -> list[tuple[str, str]]:
    """(value, label) of the invite form's relationship list."""
    return [
        ("manager", _("My manager")),
        ("peer", _("A peer")),
        ("direct_report", _("A direct report")),
        ("other", _("Someone else I work with")),
    ]


def rater_role(group: int) -> str:
    """What the rater is to the coachee, for the rater's own page."""
    return {
        apb.MANAGER: _("their manager"),
        apb.PEER: _("a peer"),
        apb.DIRECT_REPORT: _("a member of their team"),
    }.get(group, _("another colleague"))


# ------------------------------------------------------------- on the questionnaire pages


def feedback_of(assignment_id: str) -> apb.Feedback | None:
    """The assignment's 360 as the service shows the caller (None when it shows nothing)."""
    try:
        found: apb.Feedback = authed(
            clients(),
            clients().assessment.GetFeedback,
            apb.GetFeedbackRequest(assignment_id=assignment_id),
        )
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):  # type: ignore[attr-defined]
            return None
        raise
    return found


def dimension_rows(shown: apb.Feedback) -> list[tuple[str, list[apb.DimensionResult | None]]]:
    """The results as a table: (dimension title, each group's result in `shown.groups`' order)."""
    titles: dict[str, str] = {}
    for group in shown.groups:
        for result in group.results:
            titles.setdefault(result.dimension, qf.text(result.title))
    rows = []
    for dimension, title in titles.items():
        by_group = [
            next((r for r in group.results if r.dimension == dimension), None)
            for group in shown.groups
        ]
        rows.append((title, by_group))
    return rows


def raters_shown(shown: apb.Feedback | None) -> bool:
    """Whether any rater group is shown (the self-assessment alone is no 360 result)."""
    return bool(shown) and any(g.group != "self" for g in shown.groups)  # type: ignore[union-attr]


@dataclass
class InviteForm:
    """The coachee's invite form, as typed, with each field's problem."""

    emails: str = ""
    group: str = ""
    error: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 400  # the page's, when refused


def addresses_in(typed: str) -> list[str]:
    """Each address once, in the order typed."""
    seen: dict[str, str] = {}
    for address in SEPARATORS.split(typed.strip()):
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


def read_invites(form: InviteForm) -> tuple[list[apb.RaterInvite], dict[str, str]]:
    """The invitations the form asks for, and what the page can tell is missing before any
    call (whether each address is one, and how many may be asked, is the service's to say)."""
    addresses = addresses_in(form.emails)
    errors = {}
    if not addresses:
        errors["rater_emails"] = _("Write at least one email address.")
    if form.group not in RATER_GROUPS:
        errors["rater_group"] = _("Choose how these people know you.")
    if errors:
        return [], errors
    group = RATER_GROUPS[form.group]
    return [apb.RaterInvite(email=a, group=group) for a in addresses], errors


def invite_problems(exc: grpc.RpcError, invites: list[apb.RaterInvite]) -> InviteForm:
    """A refused `InviteRaters`: the message, and each field's problem beside the form field it
    concerns (a bad address named, the list's size on the addresses)."""
    message, _problems, status = failed(exc)
    errors: dict[str, list[str]] = {}
    if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
        for path, problem in call_error(exc).fields:
            found = RATER_FIELD.match(path)
            if found is None:
                continue
            index = found.group(1) or found.group(2)
            name = "rater_group" if found.group(3) == "group" else "rater_emails"
            if index is not None and name == "rater_emails" and int(index) < len(invites):
                problem = f"{invites[int(index)].email}: {problem}"
            errors.setdefault(name, []).append(problem)
    return InviteForm(
        error=message, errors={k: "; ".join(v) for k, v in errors.items()}, status=status
    )


def invite_raters(assignment_id: str, form: InviteForm) -> InviteForm | None:
    """Sends the form's invitations; None when done, else the form with its problems."""
    invites, errors = read_invites(form)
    if errors:
        form.error = _("Some fields need a look: see beside each one.")
        form.errors = errors
        return form
    try:
        authed(
            clients(),
            clients().assessment.InviteRaters,
            apb.InviteRatersRequest(assignment_id=assignment_id, raters=invites),
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            raise  # the 404 page (app.py)
        refused = invite_problems(exc, invites)
        form.error, form.errors, form.status = refused.error, refused.errors, refused.status
        return form
    return None


# ---------------------------------------------------------------------- the rater's page


def link_no_longer_valid() -> Page:
    """The one page for a link that is unknown, used, expired or malformed."""
    return render(
        "message.html",
        404,
        title=_("This link is no longer valid"),
        error=_(
            "It may have been used already or have expired. If you still wish to give your "
            "feedback, ask the person who invited you to send a new invitation."
        ),
        home_link=False,
    )


def refused(exc: grpc.RpcError) -> Page | BaseResponse:
    """A call on the link refused: the same page for every invalid link; the throttle's wait;
    any other trouble said plainly."""
    code = exc.code()  # type: ignore[attr-defined]
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
        return link_no_longer_valid()
    message, _problems, status = failed(exc)
    page = render(
        "message.html", status, title=_("Something went wrong"), error=message, home_link=False
    )
    if code != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return page
    answer = make_response(page)
    answer.headers["Retry-After"] = str(max(1, call_error(exc).retry_delay_seconds or 60))
    return answer


def rater_page(
    form: apb.RaterForm,
    typed: qf.Typed | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Page:
    try:
        document = json.loads(form.document_json)
    except ValueError:
        document = {}
    title = qf.doc_text(document.get("title")) if isinstance(document, dict) else ""
    until = format_date(form.expire_time.ToDatetime(tzinfo=UTC), "long", locale=language())
    return render(
        "feedback.html",
        status,
        title=title or _("Your feedback"),
        role=rater_role(form.group),
        until=until,
        items=qf.items_of(form.document_json),
        typed=typed or {},
        errors=errors or {},
        error=error,
        qf=qf,
    )


@feedback.route("/feedback/<token>", methods=["GET", "POST"])
def rater(token: str) -> Page | BaseResponse:
    """GET: the questionnaire, as often as the link is opened. POST: the answers, once."""
    if not well_formed(token):
        return link_no_longer_valid()
    try:
        form = call(clients().assessment.GetRaterForm, apb.GetRaterFormRequest(token=token))
    except grpc.RpcError as exc:
        return refused(exc)
    if request.method == "GET":
        return rater_page(form)
    items = qf.items_of(form.document_json)
    answers, typed, errors = qf.read_answers(request.form, items)
    if errors:
        message = _("Some answers need a look: see beside each question.")
        return rater_page(form, typed, errors, message, 400)
    try:
        call(
            clients().assessment.SubmitRaterAnswers,
            apb.SubmitRaterAnswersRequest(token=token, answers=answers),
        )
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            return refused(exc)
        message, errors, status = field_errors(exc)
        return rater_page(form, typed, errors, message, status)
    return render(
        "message.html",
        title=_("Thank you"),
        done=_(
            "Your answers are recorded. They will be shown only together with those of at "
            "least two other people, and never with your name. This link no longer works."
        ),
        home_link=False,
    )
