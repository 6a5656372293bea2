"""Faults: identity stopped. The gateway answers UNAVAILABLE within the client's deadline, health
turns NOT_SERVING, and a request that timed out is not executed when identity comes back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, Session, error_details, unique_email, unique_slug
from tests.support.people import sign_in_operator

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def own_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Its own deployment: stopping identity must not disturb the other tests."""
    d = Deployment(Path(tmp_path_factory.mktemp("faults")), os.environ.get("ECOACH_DATABASE_URL"))
    try:
        yield d.start()
    finally:
        d.stop()


def test_identity_down_is_unavailable_in_time_and_the_late_request_never_runs(
    own_deployment: Deployment,
) -> None:
    with own_deployment.channel() as channel:
        api = Api(channel)
        operator: Session = sign_in_operator(api, own_deployment.config)
        tenant = api.tenants.CreateTenant(
            pb.CreateTenantRequest(display_name="Faulty", slug=unique_slug()),
            metadata=operator.metadata,
        )

        own_deployment.stop_process("identity")
        email = unique_email("late")
        with pytest.raises(grpc.RpcError) as raised:
            api.members.AddMember(
                pb.AddMemberRequest(parent=tenant.name, email=email, roles=[pb.COACH]),
                metadata=(*operator.metadata, ("x-request-id", f"late-{email}")),
                timeout=2.0,
            )
        details = error_details(raised.value)
        # UNAVAILABLE from the gateway, not the client's own DEADLINE_EXCEEDED: the answer came
        # within the deadline (the client's wall clock around the call is no proof of that: a
        # CI run measured 2.03 s on a slow machine for an answer that was in time)
        assert details.code == grpc.StatusCode.UNAVAILABLE, details
        assert details.reason == "SERVICE_UNAVAILABLE"
        own_deployment.wait_health("identity", NOT_SERVING, timeout=15)

        own_deployment.start_process("identity")
        own_deployment.wait_serving("identity", timeout=60)
        # A request sent now is served after anything still queued before it (first in, first
        # out): once it is answered, the late one has run or never will.
        marker = unique_email("marker")
        api.members.AddMember(
            pb.AddMemberRequest(parent=tenant.name, email=marker, roles=[pb.COACH]),
            metadata=operator.metadata,
        )
        members = api.members.ListMembers(
            pb.ListMembersRequest(parent=tenant.name), metadata=operator.metadata
        )
        assert [m.email for m in members.members if m.email in (email, marker)] == [marker]
        assert f"late-{email}" not in own_deployment.logs["identity"].read_text()
        # and the platform works again
        api.members.AddMember(
            pb.AddMemberRequest(parent=tenant.name, email=email, roles=[pb.COACH]),
            metadata=operator.metadata,
        )
