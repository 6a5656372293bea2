"""The web gateway's only way out: the gRPC gateway, one stub per gRPC service, one channel.

Every call carries the page's language (so errors come back localized), the browser's address
(`x-forwarded-for`: the gRPC gateway believes it from the addresses in its
ECOACH_TRUSTED_PROXIES, so sign-in throttling and history see the person), and, for a
signed-in person, their access token, refreshed first when it is about to expire and once more
if the gateway says it no longer works.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from flask import g

from gateway.api.pb import assessment_pb2_grpc as apb_grpc
from gateway.api.pb import content_pb2_grpc as cpb_grpc
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import identity_pb2_grpc as ipb_grpc
from gateway.api.pb import reporting_pb2_grpc as rpb_grpc
from gateway.api.pb import scheduling_pb2_grpc as spb_grpc
from gateway.api.pb import spaces_pb2_grpc as sppb_grpc

from .i18n import language
from .session import WebSession

CALL_TIMEOUT = 15.0
# An access token this close to its expiry is refreshed before it is sent.
REFRESH_MARGIN_SECONDS = 30.0

Reply = TypeVar("Reply")


@dataclass
class Clients:
    auth: ipb_grpc.AuthServiceStub
    members: ipb_grpc.MemberServiceStub
    dashboards: sppb_grpc.DashboardServiceStub
    feeds: spb_grpc.CalendarFeedServiceStub
    # The coachee's pages (coachee.py, notes.py, sessions.py, me.py) and the coach's (coach.py).
    spaces: sppb_grpc.SpaceServiceStub
    goals: sppb_grpc.GoalServiceStub
    notes: sppb_grpc.NoteServiceStub
    sessions: spb_grpc.SessionServiceStub
    availability: spb_grpc.AvailabilityServiceStub
    calendar: spb_grpc.CalendarServiceStub
    policies: spb_grpc.SchedulingPolicyServiceStub
    requests: spb_grpc.RescheduleRequestServiceStub
    # HR's and operators' consoles (gateway/web/hr*.py, operator.py; spaces and policies above).
    tenants: ipb_grpc.TenantServiceStub
    audit: ipb_grpc.AuditServiceStub
    video: spb_grpc.VideoSettingsServiceStub
    # The questionnaires of a space, for its coach and coachee (questionnaires.py).
    assessment: apb_grpc.AssessmentServiceStub
    # The resource library and a space's recommendations (library.py, recommendations.py).
    content: cpb_grpc.ContentServiceStub
    # The space's toolbox, for its coaches and its coachee (toolbox.py, tool_words.py).
    toolbox: sppb_grpc.ToolboxServiceStub
    # HR's reports (hr_reports.py).
    reports: rpb_grpc.ReportingServiceStub

    @classmethod
    def over(cls, channel: grpc.Channel) -> Clients:
        return cls(
            ipb_grpc.AuthServiceStub(channel),
            ipb_grpc.MemberServiceStub(channel),
            sppb_grpc.DashboardServiceStub(channel),
            spb_grpc.CalendarFeedServiceStub(channel),
            sppb_grpc.SpaceServiceStub(channel),
            sppb_grpc.GoalServiceStub(channel),
            sppb_grpc.NoteServiceStub(channel),
            spb_grpc.SessionServiceStub(channel),
            spb_grpc.AvailabilityServiceStub(channel),
            spb_grpc.CalendarServiceStub(channel),
            spb_grpc.SchedulingPolicyServiceStub(channel),
            spb_grpc.RescheduleRequestServiceStub(channel),
            ipb_grpc.TenantServiceStub(channel),
            ipb_grpc.AuditServiceStub(channel),
            spb_grpc.VideoSettingsServiceStub(channel),
            apb_grpc.AssessmentServiceStub(channel),
            cpb_grpc.ContentServiceStub(channel),
            sppb_grpc.ToolboxServiceStub(channel),
            rpb_grpc.ReportingServiceStub(channel),
        )


class SignedOut(Exception):
    """The person's ecoach session is over (signed out elsewhere, expired, revoked)."""


def metadata(token: str = "") -> tuple[tuple[str, str], ...]:
    pairs = [("accept-language", language()), ("x-forwarded-for", g.client_address)]
    if token:
        pairs.append(("authorization", f"Bearer {token}"))
    return tuple(pairs)


def call(method: Callable[..., Reply], request: Any, token: str = "") -> Reply:
    """A call on the person's behalf, without their session (sign-in, the mailed links)."""
    return method(request, metadata=metadata(token), timeout=CALL_TIMEOUT)


def keep(session: WebSession, reply: ipb.SignInResponse) -> None:
    """The tokens of a sign-in, refresh or tenant switch, into the session."""
    session.access_token = reply.access_token
    session.access_expires = float(reply.expire_time.seconds)
    session.refresh_token = reply.refresh_token
    session.person_id = reply.person_id
    session.tenant_id = reply.tenant_id
    session.step = session.challenge = ""
    g.session_changed = True


def refresh(clients: Clients, session: WebSession) -> None:
    try:
        reply = call(clients.auth.Refresh, ipb.RefreshRequest(refresh_token=session.refresh_token))
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):  # type: ignore[attr-defined]
            raise SignedOut from exc
        raise
    keep(session, reply)


def authed(clients: Clients, method: Callable[..., Reply], request: Any) -> Reply:
    """A call as the signed-in person; SignedOut when their session cannot go on."""
    session: WebSession = g.session
    if not session.signed_in:
        raise SignedOut
    if session.access_expires - time.time() < REFRESH_MARGIN_SECONDS:
        refresh(clients, session)
    try:
        return call(method, request, session.access_token)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
            raise
    refresh(clients, session)  # revoked or expired meanwhile: once more, with a new token
    try:
        return call(method, request, session.access_token)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
            raise SignedOut from exc
        raise
