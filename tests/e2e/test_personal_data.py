"""The personal-data contract, export side, through the gateway: a person downloads
everything ecoach keeps about them, one document per service, and never anyone else's or a
secret."""

from __future__ import annotations

import json

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from services.kernel.personal_data import PERSONAL_DATA_SERVICES
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support.api import Api, Session, expect_error


def export(api: Api, who: Session) -> list[pb.PersonalDataDocument]:
    return list(api.auth.ExportMyData(pb.ExportMyDataRequest(), metadata=who.metadata, timeout=30))


def test_a_person_exports_their_own_data_one_document_per_service(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    me = api.auth.GetMe(pb.GetMeRequest(), metadata=acme.coach.metadata).person
    expect_error(api.sign_in, me.email, "a wrong password 77", acme.tenant_id)
    session = api.sign_in(me.email, PASSWORD, acme.tenant_id)

    documents = export(api, session)
    assert [d.service for d in documents] == list(PERSONAL_DATA_SERVICES)
    identity = documents[0]
    assert identity.content_type == "application/json" and identity.export_time.seconds > 0
    data = json.loads(identity.data)
    assert data["person"]["email"] == me.email
    assert [(m["tenant_id"], m["roles"]) for m in data["memberships"]] == [
        (acme.tenant_id, ["coach"])
    ]
    assert {s["outcome"] for s in data["sign_ins"]} == {"succeeded", "failed"}
    assert len(data["sessions"]) >= 2
    assert any(a["subject"] == acme.coach_member for a in data["audit"])
    text = identity.data.decode()
    for secret in ("password_hash", "argon2", "secret_hash", "token_hash", session.refresh_token):
        assert secret not in text
    # Nobody else's data.
    other = api.auth.GetMe(pb.GetMeRequest(), metadata=acme.coachee.metadata).person
    assert other.email not in text and other.person_id not in text


def test_exporting_needs_a_valid_token(api: Api) -> None:
    refused = expect_error(export, api, Session("not-a-token", "", ""))
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED
