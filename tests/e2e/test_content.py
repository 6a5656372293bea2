"""The content library and recommendations end to end through the gateway: an operator, a
tenant admin and a coach each add to their level; the coach searches (word prefixes, accents
ignored, tags) and recommends into an active space with a note; the coachee reads it and marks
it; bad input is INVALID_ARGUMENT naming each field and changes nothing; HR, another coach and
another tenant see nothing of the space's recommendations."""

from __future__ import annotations

from typing import Any

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error
from tests.support.waiting import wait_for


def active_space(api: Api, team: TenantWorld) -> spb.Space:
    spaces = spaces_pb2_grpc.SpaceServiceStub(api.channel)
    space = spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=team.coachee_member,
                coach_member_id=team.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=8,
                start_date="2027-02-01",
            ),
        ),
        metadata=team.coach.metadata,
    )
    return spaces.ActivateSpace(spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata)


def test_a_coach_finds_a_resource_and_recommends_it_and_the_coachee_marks_it(
    deployment: Deployment, api: Api, operator: Session, globex: TenantWorld
) -> None:
    team = make_tenant(deployment, api, operator)
    stub = content_pb2_grpc.ContentServiceStub(api.channel)
    space = active_space(api, team)
    marker = team.slug.replace("-", "")  # a word only this test's resources hold

    world = stub.CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.GLOBAL,
            kind=cpb.VIDEO,
            title=f"Écoute active {marker}",
            url="https://example.org/ecoute",
            language="fr",
            minutes=12,
            tags=["Écoute", "listening"],
        ),
        metadata=operator.metadata,
    )
    assert (world.scope, world.tenant_id, world.link_status) == (cpb.GLOBAL, "", cpb.UNCHECKED)
    house = stub.CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.TENANT,
            kind=cpb.BOOK,
            title=f"Our feedback handbook {marker}",
            url="https://intranet.example.org/handbook",
            language="en",
        ),
        metadata=team.admin.metadata,
    )
    mine = stub.CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.PRIVATE,
            kind=cpb.ARTICLE,
            title=f"Feedback that lands {marker}",
            url="https://example.org/feedback",
            author="Kim Scott",
            language="en",
            tags=["feedback"],
            why="Three questions to ask before giving feedback.",
        ),
        metadata=team.coach.metadata,
    )

    def titles(who: Session, **filters: Any) -> list[str]:
        found = stub.SearchResources(
            cpb.SearchResourcesRequest(**{"query": marker, **filters}), metadata=who.metadata
        )
        return sorted(r.title.removesuffix(f" {marker}") for r in found.resources)

    assert titles(team.coach) == ["Feedback that lands", "Our feedback handbook", "Écoute active"]
    assert titles(team.coach, query=f"{marker} ecout") == ["Écoute active"]
    assert titles(team.coach, query=f"{marker} KIM") == ["Feedback that lands"]
    assert titles(team.coach, tags=["listening"]) == ["Écoute active"]
    assert titles(team.coach, scope=cpb.TENANT) == ["Our feedback handbook"]
    assert titles(team.admin) == ["Our feedback handbook", "Écoute active"]
    assert titles(globex.coach) == ["Écoute active"]  # the global level only
    assert titles(team.coachee) == []

    # Bad input: every bad field named, nothing added.
    bad = expect_error(
        stub.CreateResource,
        cpb.CreateResourceRequest(
            scope=cpb.PRIVATE,
            kind=cpb.ARTICLE,
            title="x" * 301,
            url="javascript:alert(1)",
            language="French",
            minutes=-1,
            tags=["a,b"],
            why="nul\x00byte",
        ),
        metadata=team.coach.metadata,
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(bad.fields) == {"title", "url", "language", "minutes", "tags.0", "why"}
    for request, field in (
        (cpb.CreateResourceRequest(kind=cpb.ARTICLE, title="t", url="https://e.org", language="en"), "scope"),
        (cpb.CreateResourceRequest(scope=cpb.PRIVATE, title="t", url="https://e.org", language="en"), "kind"),
    ):  # fmt: skip
        refused = expect_error(stub.CreateResource, request, metadata=team.coach.metadata)
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, (field,))
    refused = expect_error(
        stub.SearchResources,
        cpb.SearchResourcesRequest(page_token="not-a-token"),
        metadata=team.coach.metadata,
    )
    assert refused.fields == ("page_token",)
    assert titles(team.coach) == ["Feedback that lands", "Our feedback handbook", "Écoute active"]

    def recommend() -> Any:  # once content has learnt the space is active (spaces' events)
        try:
            return stub.RecommendResource(
                cpb.RecommendResourceRequest(
                    parent=space.name, resource_id=mine.resource_id, note="Avant jeudi, merci !"
                ),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    made = wait_for(recommend, 20, "content's copy of the space")
    assert (made.space, made.status, made.HasField("useful")) == (space.name, cpb.NEW, False)
    assert made.resource.title == mine.title and made.resource.why == mine.why

    # The resource changes later: the coachee reads it as it was recommended.
    stub.DeleteResource(
        cpb.DeleteResourceRequest(resource_id=mine.resource_id), metadata=team.coach.metadata
    )
    listed = stub.ListRecommendations(
        cpb.ListRecommendationsRequest(parent=space.name), metadata=team.coachee.metadata
    )
    [seen] = listed.recommendations
    assert (seen.note, seen.resource.url) == (
        "Avant jeudi, merci !",
        "https://example.org/feedback",
    )
    marked = stub.MarkRecommendation(
        cpb.MarkRecommendationRequest(
            recommendation_id=made.recommendation_id, read=True, useful=True
        ),
        metadata=team.coachee.metadata,
    )
    assert (marked.status, marked.useful) == (cpb.READ, True)
    coach_view = stub.ListRecommendations(
        cpb.ListRecommendationsRequest(parent=space.name), metadata=team.coach.metadata
    )
    assert [(r.status, r.useful) for r in coach_view.recommendations] == [(cpb.READ, True)]

    # HR, another tenant: nothing of the space.
    for who in (team.admin, globex.coach, globex.admin):
        hidden = expect_error(
            stub.ListRecommendations,
            cpb.ListRecommendationsRequest(parent=space.name),
            metadata=who.metadata,
        )
        assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "SPACE_NOT_FOUND")
    refused = expect_error(
        stub.RecommendResource,
        cpb.RecommendResourceRequest(parent=space.name, resource_id=house.resource_id),
        metadata=team.coachee.metadata,
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SPACE_COACH_ONLY")
    # Operators rotate the tenant's key; the note still opens.
    rotation = stub.RotateTenantKey(
        spb.RotateTenantKeyRequest(parent=tenant_name(team.tenant_id)), metadata=operator.metadata
    )
    assert rotation.rewrapped == 1
    again = stub.ListRecommendations(
        cpb.ListRecommendationsRequest(parent=space.name), metadata=team.coachee.metadata
    )
    assert again.recommendations[0].note == "Avant jeudi, merci !"


def test_links_are_checked_in_the_background_and_never_reach_inside(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    """A link to the deployment's own machine is refused unchecked (the SSRF guard); one to a
    name that does not resolve is unreachable; its coach reads the outcome in the library."""
    team = make_tenant(deployment, api, operator)
    stub = content_pb2_grpc.ContentServiceStub(api.channel)

    def added(url: str) -> str:
        return str(
            stub.CreateResource(
                cpb.CreateResourceRequest(
                    scope=cpb.PRIVATE, kind=cpb.ARTICLE, title=url, url=url, language="en"
                ),
                metadata=team.coach.metadata,
            ).resource_id
        )

    inside = added(f"http://{deployment.web_address}/healthz")
    nowhere = added("https://no-such-host.invalid/article")

    def checked(resource_id: str) -> Any:
        found = stub.GetResource(
            cpb.GetResourceRequest(resource_id=resource_id), metadata=team.coach.metadata
        )
        return found if found.link_status != cpb.UNCHECKED else None

    refused = wait_for(lambda: checked(inside), 30, "the check of the inside link")
    assert refused.link_status == cpb.LINK_REFUSED and refused.HasField("link_check_time")
    unreachable = wait_for(lambda: checked(nowhere), 30, "the check of the unknown name")
    assert unreachable.link_status == cpb.LINK_UNREACHABLE
