"""The reporting service's contract: HR's reports (aggregates over groups of at least five
coachees, never a person), their CSV export, and its method table (`ReportingApi`).

Reporting publishes its part of an erasure (`reporting.person_erased`) and one PUBLIC event,
`reporting.digest_published` (the headline aggregates, ADR 0023's addendum), which HR's tools
may read; its tenant admins subscribe signed webhooks to the same digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.kernel.events import EventPayload
from services.kernel.i18n import N_
from services.kernel.personal_data import completion_event

from . import personal_data as pd
from .base import (
    Api,
    Contract,
    Empty,
    Id,
    Method,
    PageRequest,
    PingResponse,
    TenantKeyRotation,
    TenantRef,
    web_address,
)

SERVICE = "reporting"

ReportKind = Literal["seats", "spaces", "sessions", "engagement", "goals", "assessments", "modules"]
CohortAttribute = Literal["department", "site", "programme"]
GroupKind = Literal["total", "value", "not_set", "others"]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
# A cohort label as identity keeps it (department, site, programme: ADR 0024): one line, at
# most 80 characters.
Label = Annotated[str, StringConstraints(min_length=1, max_length=80)]

# A report spans at most three years of months.
MAX_MONTHS = 36


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


class CohortFilters(Contract):
    """Keep only the coachees whose attribute is one of the values given (none given: all)."""

    department: list[Label] = Field(default=[], max_length=20)
    site: list[Label] = Field(default=[], max_length=20)
    programme: list[Label] = Field(default=[], max_length=20)


class ReportRequest(Contract):
    tenant_id: Id
    kind: ReportKind
    from_month: Month
    to_month: Month
    filters: CohortFilters = CohortFilters()
    group_by: CohortAttribute | None = None

    @field_validator("to_month")
    @classmethod
    def _range(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("from_month")
        if start is None:
            return value
        if value < start:
            problem = N_("must not be before from_month")
            raise PydanticCustomError("text_or_date", problem, {"template": problem})
        if _month_number(value) - _month_number(start) >= MAX_MONTHS:
            problem = N_("must be at most 36 months after from_month")
            raise PydanticCustomError("text_or_date", problem, {"template": problem})
        return value


class ReportGroup(Contract):
    """A group shown: the total, one value of the grouping attribute, the coachees without one
    (`not_set`), or `others`: groups merged because they, or what subtracting them from the
    total would reveal, hold fewer than five coachees. `population`: its distinct coachees."""

    kind: GroupKind
    label: str  # the attribute's value for `value`, else ""
    population: int


class ReportRow(Contract):
    group_kind: GroupKind
    group_label: str
    month: str  # YYYY-MM, or "" for the whole range
    metric: str
    value: int


class Report(Contract):
    tenant_id: str
    kind: ReportKind
    from_month: str
    to_month: str
    group_by: CohortAttribute | None = None
    # False: fewer than five coachees after the filters; nothing at all is shown.
    disclosed: bool
    min_group: int
    groups: list[ReportGroup]
    rows: list[ReportRow]


class ReportCsv(Contract):
    """The report as CSV (UTF-8, comma, header line): group_kind, group_label, month, metric,
    value; no row when nothing may be shown."""

    filename: str
    csv: str


class ResetFactsRequest(Contract):
    """Empty reporting's fact tables, of one tenant or (no tenant) of every tenant, before a
    republish rebuilds them (`ecoach-ops rebuild-reporting`, docs/operations/republish.md)."""

    tenant_id: Id | None = None


class ResetFactsReport(Contract):
    """How many facts were deleted from each table."""

    deleted: dict[str, int]


# ------------------------------------------------------------------------ webhooks (ADR 0023)


def _webhook_url(value: str) -> str:
    """A receiver's address: https:// (http:// is refused in production by the service, which
    alone knows the deployment), a host, no user or password in it, no fragment, no space."""
    parts = web_address(value)
    if parts is None or any(ord(ch) < 32 for ch in value):
        problem = N_("must be a web address starting with https://")
        raise PydanticCustomError("text_or_date", problem, {"template": problem})
    if parts.username is not None or parts.password is not None:
        problem = N_("must not contain a user name or password")
        raise PydanticCustomError("text_or_date", problem, {"template": problem})
    if parts.fragment:
        problem = N_("must not contain a fragment (#...)")
        raise PydanticCustomError("text_or_date", problem, {"template": problem})
    return value


WebhookUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_webhook_url)
]
DeliveryState = Literal["pending", "delivered", "failed"]


class CreateWebhookRequest(Contract):
    tenant_id: Id
    url: WebhookUrl


class Webhook(Contract):
    """A subscription as its admins see it: never its secret."""

    id: str
    url: str
    active: bool
    created_at: datetime


class NewWebhook(Contract):
    """The new subscription and its signing secret, shown this once: only its sealed form is
    kept, no method returns it again (a lost secret: delete the webhook and create another)."""

    webhook: Webhook
    secret: str


class WebhookList(Contract):
    webhooks: list[Webhook]


class WebhookRef(Contract):
    tenant_id: Id
    webhook_id: Id


class ListWebhookDeliveriesRequest(PageRequest):
    tenant_id: Id
    webhook_id: Id | None = None  # None: every webhook of the tenant


class WebhookDelivery(Contract):
    """One payload sent (or being sent) to one webhook: its state and attempts, the receiver's
    last HTTP status and the class of the last failure (`http_500`, `timeout`, `unreachable`,
    `refused_unsafe`, `subscription_inactive`); never a body, sent or received."""

    id: str
    webhook_id: str
    kind: str  # reporting.digest, reporting.ping
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class WebhookDeliveryList(Contract):
    deliveries: list[WebhookDelivery]  # newest first
    next_page_token: str = ""


class DigestPublished(EventPayload):
    """A tenant's headline aggregates for a month (public: HR's tools may read it). When fewer
    than `min_group` coachees are counted, `disclosed` is False and no number is given at all,
    not even the population. `digest_id` is the same in the webhook deliveries of this digest:
    a receiver of both deduplicates by it."""

    TYPE: ClassVar[str] = "reporting.digest_published"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "digest_id"
    TENANT: ClassVar[str | None] = "tenant_id"
    AUDIENCE: ClassVar[Literal["internal", "public"]] = "public"

    digest_id: str
    tenant_id: str
    month: str  # YYYY-MM, UTC, the month so far
    disclosed: bool
    min_group: int
    coachees: int | None = None  # the month's population (distinct coachees with a space)
    seats: int | None = None
    active_coachees: int | None = None
    sessions_held: int | None = None
    published_at: datetime


EVENTS: tuple[type[EventPayload], ...] = (
    completion_event(SERVICE),  # reporting.person_erased: its part of an erasure is done
    DigestPublished,
)


class ReportingApi(Api):
    """What the reporting service serves (its `@rpc` methods, in the order of its service.py)."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    get_report = Method(ReportRequest, Report)
    export_report = Method(ReportRequest, ReportCsv)
    export_personal_data = Method(Empty, pd.PersonalDataExport)
    reset_facts = Method(ResetFactsRequest, ResetFactsReport)
    create_webhook = Method(CreateWebhookRequest, NewWebhook)
    list_webhooks = Method(TenantRef, WebhookList)
    delete_webhook = Method(WebhookRef, Empty)
    list_webhook_deliveries = Method(ListWebhookDeliveriesRequest, WebhookDeliveryList)
    send_test_delivery = Method(WebhookRef, WebhookDelivery)
    rotate_tenant_key = Method(TenantRef, TenantKeyRotation)
