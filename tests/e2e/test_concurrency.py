"""Many people at once through one client: every reply belongs to its own caller."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, Session, unique_email, unique_slug
from tests.support.people import set_password

PEOPLE = 32
CALLS_EACH = 40
PASSWORD = "concurrency-password-1"


def test_32_people_calling_get_me_40_times_through_one_client_each_get_their_own_answer(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name="Busy", slug=unique_slug("busy")),
        metadata=operator.metadata,
    )
    emails = [unique_email(f"p{i}") for i in range(PEOPLE)]
    for email in emails:
        api.members.AddMember(
            pb.AddMemberRequest(parent=tenant.name, email=email, roles=[pb.COACHEE]),
            metadata=operator.metadata,
        )
        set_password(deployment.config, email, PASSWORD)
    # Sign-ins hash with argon2 (CPU and memory bound): a few at a time on a 2-core machine.
    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(lambda e: api.sign_in(e, PASSWORD, tenant.tenant_id), emails))

    def hammer(person: tuple[str, Session]) -> list[str]:
        email, session = person
        wrong = []
        for _ in range(CALLS_EACH):
            me = api.auth.GetMe(pb.GetMeRequest(), metadata=session.metadata, timeout=30)
            if me.person.person_id != session.person_id or me.person.email != email:
                wrong.append(me.person.email)
        return wrong

    # one channel (the `api` fixture's), shared by 32 threads; the gateway uses one RPC client
    with ThreadPoolExecutor(PEOPLE) as pool:
        mixups = [
            w for result in pool.map(hammer, zip(emails, sessions, strict=True)) for w in result
        ]
    assert mixups == []
