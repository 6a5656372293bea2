"""Helpers for the tests of the spaces service through the gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support.api import Api, Session, unique_email
from tests.support.people import set_password


def add_person(
    deployment: Deployment, api: Api, team: TenantWorld, role: int, label: str
) -> tuple[str, Session]:
    email = unique_email(label)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(team.tenant_id), email=email, roles=[role], display_name=label
        ),
        metadata=team.admin.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    return added.member_id, api.sign_in(email, PASSWORD, team.tenant_id)


def set_up(team: TenantWorld, **changes: Any) -> pb.SpaceSetUp:
    fields: dict[str, Any] = {
        "coachee_member_id": team.coachee_member,
        "coach_member_id": team.coach_member,
        "cadence": pb.EVERY_TWO_WEEKS,
        "sessions_planned": 10,
        "start_date": "2027-01-04",
        "end_date": "2027-06-30",
    }
    fields.update(changes)
    return pb.SpaceSetUp(**fields)


def create(spaces: Any, team: TenantWorld, who: Session, **content: str) -> pb.Space:
    return spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=set_up(team),
            content=pb.SpaceContent(**content),
        ),
        metadata=who.metadata,
    )


def get(spaces: Any, name: str, who: Session) -> pb.Space:
    return spaces.GetSpace(pb.GetSpaceRequest(name=name), metadata=who.metadata)


def move(spaces: Any, how: str, name: str, who: Session) -> pb.Space:
    method: Callable[..., pb.Space] = getattr(spaces, f"{how}Space")
    return method(pb.SpaceMoveRequest(name=name), metadata=who.metadata)


def listed(spaces: Any, team: TenantWorld, who: Session) -> list[pb.Space]:
    return list(
        spaces.ListSpaces(
            pb.ListSpacesRequest(parent=tenant_name(team.tenant_id), page_size=100),
            metadata=who.metadata,
        ).spaces
    )
