"""Isolation rows of content's methods (ecoach/v1/content.proto: the library's resources,
recommendations into a space, tenant keys), and the search, which takes no ids and serves each
caller the levels they read; the cast and checks are in conftest.py (a private resource of acme's
coach, recommended into acme's space, and a resource of acme's tenant library; a shipped module
assigned in acme's space, its first lesson completed by the coachee; the operator's LRS, which
only operators see or set)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf.message import Message

from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.isolation.conftest import (
    NOT_FOUND,
    PERMISSION_DENIED,
    Case,
    World,
    acme_admin,
    acme_coach,
    acme_coachee,
    acme_other_coach,
    assert_cannot_reach,
    assert_hidden_like_missing,
    case_params,
    globex_admin,
    globex_coach,
    globex_coachee,
    globex_space,
    hidden_cases,
    other_coach_space,
    parent,
    the_space,
)
from tests.support.api import Session
from tests.support.isolation import as_dict

CONTENT = "ecoach.v1.ContentService"


def stub(w: World) -> Any:
    return content_pb2_grpc.ContentServiceStub(w.api.channel)


# The link checker's verdict is the service's own work on its timer, not a caller's doing: a
# sweep may land between the read before a call and the read after it (CI saw an UNCHECKED
# link turn LINK_UNREACHABLE across a refused DeleteResource).
CHECKER_FIELDS = frozenset({"link_status", "link_check_time"})


def without_checker(value: Any) -> Any:
    """A read back with the link checker's fields left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_checker(v) for k, v in value.items() if k not in CHECKER_FIELDS}
    if isinstance(value, list):
        return [without_checker(v) for v in value]
    return value


def the_resource(w: World) -> Any:
    """The victim coach's private resource, as they see it."""
    got = stub(w).GetResource(
        cpb.GetResourceRequest(resource_id=w.acme_resource_id), metadata=w.acme.coach.metadata
    )
    return without_checker(as_dict(got))


def the_tenant_resource(w: World) -> Any:
    got = stub(w).GetResource(
        cpb.GetResourceRequest(resource_id=w.acme_tenant_resource_id),
        metadata=w.acme.admin.metadata,
    )
    return without_checker(as_dict(got))


def the_recommendations(w: World) -> Any:
    """The victim space's recommendations as its coachee reads them (note and marks)."""
    listed = stub(w).ListRecommendations(
        cpb.ListRecommendationsRequest(parent=the_space(w), page_size=200),
        metadata=w.acme.coachee.metadata,
    )
    return [without_checker(as_dict(r)) for r in listed.recommendations]


def the_global_library(w: World) -> Any:
    listed = stub(w).SearchResources(
        cpb.SearchResourcesRequest(scope=cpb.GLOBAL, page_size=200), metadata=w.operator.metadata
    )
    return sorted(r.resource_id for r in listed.resources)


def the_module_assignments(w: World) -> Any:
    """The victim space's modules, each with its progress, as its coachee reads them."""
    listed = stub(w).ListModuleAssignments(
        cpb.ListModuleAssignmentsRequest(parent=the_space(w), page_size=200),
        metadata=w.acme.coachee.metadata,
    )
    return [as_dict(a) for a in listed.assignments]


def the_catalogue(w: World) -> Any:
    listed = stub(w).ListModules(
        cpb.ListModulesRequest(page_size=200), metadata=w.operator.metadata
    )
    return sorted((m.slug, m.version) for m in listed.modules)


def the_lrs(w: World) -> Any:
    """The operator's LRS settings, and how many statements wait (any recorded would show)."""
    got = stub(w).GetLrsSettings(cpb.GetLrsSettingsRequest(), metadata=w.operator.metadata)
    return as_dict(got)


def an_answer(w: World) -> Message:
    return cpb.RecordBlockAnsweredRequest(
        assignment_id=w.acme_module_assignment_id,
        lesson="deliver",
        block=2,
        kind=cpb.ANSWERED_REFLECTION,
    )


def an_lrs(w: World) -> Message:
    return cpb.SetLrsSettingsRequest(
        endpoint="https://lrs.attacker.example/xapi", key="k", secret="s", enabled=True
    )


def the_module_lesson(request: Callable[..., Message]) -> Callable[[World], Message]:
    return lambda w: request(assignment_id=w.acme_module_assignment_id, lesson="deliver")


def a_module_folder(w: World) -> Message:
    return cpb.ImportModuleRequest(
        files=[cpb.ModuleFile(path="module.md", text="---\nslug: smuggled\n---\n")]
    )


def fields(**extra: Any) -> dict[str, Any]:
    return {
        "kind": cpb.ARTICLE,
        "title": "Stolen",
        "url": "https://example.org/stolen",
        "language": "en",
        **extra,
    }


def private(request: Callable[..., Message], **extra: Any) -> Callable[[World], Message]:
    return lambda w: request(resource_id=w.acme_resource_id, **extra)


def tenants(request: Callable[..., Message], **extra: Any) -> Callable[[World], Message]:
    return lambda w: request(resource_id=w.acme_tenant_resource_id, **extra)


def recommend_into(space: Callable[[World], str]) -> Callable[[World], Message]:
    return lambda w: cpb.RecommendResourceRequest(
        parent=space(w), resource_id=w.acme_resource_id, note="smuggled"
    )


def the_recommendation(**extra: Any) -> Callable[[World], Message]:
    return lambda w: cpb.MarkRecommendationRequest(
        recommendation_id=w.acme_recommendation_id, read=True, useful=False, **extra
    )


OUTSIDERS: tuple[tuple[str, Callable[[World], Session]], ...] = (
    ("other-tenant-admin", globex_admin),
    ("other-tenant-coach", globex_coach),
    ("other-tenant-coachee", globex_coachee),
)
# Who aims at the victim coach's private resource: only its coach reads it.
PRIVATE_INTRUDERS = (
    *OUTSIDERS,
    ("victims-own-hr", acme_admin),
    ("same-tenant-other-coach", acme_other_coach),
    ("victims-coachee", acme_coachee),
)
# Who aims at the victim space's recommendations: only its people reach them.
SPACE_INTRUDERS = (
    *OUTSIDERS,
    ("victims-own-hr", acme_admin),
    ("same-tenant-other-coach", acme_other_coach),
)

CASES: list[Case] = [
    # ------------------------------------------------------------ a coach's private resource
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="RESOURCE_NOT_FOUND",
            read_back=the_resource,
        )
        for method, request in (
            ("GetResource", private(cpb.GetResourceRequest)),
            ("UpdateResource", private(cpb.UpdateResourceRequest, **fields())),
            ("DeleteResource", private(cpb.DeleteResourceRequest)),
        )
        for label, caller in PRIVATE_INTRUDERS
    ),
    # ------------------------------------------------------------ a tenant's library
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label=f"{label}-tenant-library",
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="RESOURCE_NOT_FOUND",
            read_back=the_tenant_resource,
        )
        for method, request in (
            ("GetResource", tenants(cpb.GetResourceRequest)),
            ("UpdateResource", tenants(cpb.UpdateResourceRequest, **fields())),
            ("DeleteResource", tenants(cpb.DeleteResourceRequest)),
        )
        for label, caller in (*OUTSIDERS, ("victims-coachee", acme_coachee))
    ),
    # Its coaches read it, but only its admins change it.
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label="victims-coach-curates-the-tenant-library",
            caller=acme_coach,
            request=request,
            code=PERMISSION_DENIED,
            reason="TENANT_ADMIN_ONLY",
            read_back=the_tenant_resource,
        )
        for method, request in (
            ("UpdateResource", tenants(cpb.UpdateResourceRequest, **fields())),
            ("DeleteResource", tenants(cpb.DeleteResourceRequest)),
        )
    ),
    # ------------------------------------------------------------ adding to a level
    *(
        Case(
            method=f"{CONTENT}/CreateResource",
            label=label,
            caller=caller,
            request=lambda w, scope=scope: cpb.CreateResourceRequest(scope=scope, **fields()),
            code=PERMISSION_DENIED,
            reason=reason,
            read_back=the_global_library,
        )
        for label, caller, scope, reason in (
            ("victims-own-hr-writes-the-global-library", acme_admin, cpb.GLOBAL, "OPERATOR_ONLY"),
            ("coach-writes-the-global-library", acme_coach, cpb.GLOBAL, "OPERATOR_ONLY"),
            ("coach-writes-the-tenant-library", acme_coach, cpb.TENANT, "TENANT_ADMIN_ONLY"),
            ("coachee-keeps-a-private-one", acme_coachee, cpb.PRIVATE, "COACH_ONLY"),
            ("hr-keeps-a-private-one", acme_admin, cpb.PRIVATE, "COACH_ONLY"),
        )
    ),
    # ------------------------------------------------------------ recommendations
    *(
        Case(
            method=f"{CONTENT}/RecommendResource",
            label=label,
            caller=caller,
            request=recommend_into(the_space),
            code=NOT_FOUND,
            reason="SPACE_NOT_FOUND",
            read_back=the_recommendations,
        )
        for label, caller in SPACE_INTRUDERS
    ),
    Case(
        method=f"{CONTENT}/RecommendResource",
        label="victims-coachee-recommends",
        caller=acme_coachee,
        request=recommend_into(the_space),
        code=PERMISSION_DENIED,
        reason="SPACE_COACH_ONLY",
        read_back=the_recommendations,
    ),
    # Another coach's private resource, smuggled into a space of the caller's own.
    *(
        Case(
            method=f"{CONTENT}/RecommendResource",
            label=label,
            caller=caller,
            request=recommend_into(space),
            code=NOT_FOUND,
            reason="RESOURCE_NOT_FOUND",
            read_back=the_resource,
        )
        for label, caller, space in (
            ("other-tenant-coach-into-own-space", globex_coach, globex_space),
            ("same-tenant-other-coach-into-own-space", acme_other_coach, other_coach_space),
        )
    ),
    *(
        Case(
            method=f"{CONTENT}/ListRecommendations",
            label=label,
            caller=caller,
            request=lambda w: cpb.ListRecommendationsRequest(parent=the_space(w)),
            code=NOT_FOUND,
            reason="SPACE_NOT_FOUND",
            read_back=the_recommendations,
        )
        for label, caller in SPACE_INTRUDERS
    ),
    *(
        Case(
            method=f"{CONTENT}/MarkRecommendation",
            label=label,
            caller=caller,
            request=the_recommendation(),
            code=NOT_FOUND,
            reason="RECOMMENDATION_NOT_FOUND",
            read_back=the_recommendations,
        )
        for label, caller in SPACE_INTRUDERS
    ),
    Case(
        method=f"{CONTENT}/MarkRecommendation",
        label="victims-coach-marks-for-the-coachee",
        caller=acme_coach,
        request=the_recommendation(),
        code=PERMISSION_DENIED,
        reason="SPACE_COACHEE_ONLY",
        read_back=the_recommendations,
    ),
    # ------------------------------------------------------------ modules
    # The catalogue: operators import into it; coaches and coachees read it, HR does not.
    *(
        Case(
            method=f"{CONTENT}/ImportModule",
            label=label,
            caller=caller,
            request=a_module_folder,
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=the_catalogue,
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("victims-coach", acme_coach),
            ("victims-coachee", acme_coachee),
            ("other-tenant-admin", globex_admin),
        )
    ),
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=PERMISSION_DENIED,
            reason="COACH_OR_COACHEE_ONLY",
            read_back=the_catalogue,
        )
        for method, request in (
            ("ListModules", lambda w: cpb.ListModulesRequest()),
            ("GetModule", lambda w: cpb.GetModuleRequest(slug="giving-feedback")),
            ("ExportModule", lambda w: cpb.GetModuleRequest(slug="giving-feedback")),
        )
        for label, caller in (("victims-own-hr", acme_admin), ("other-tenant-admin", globex_admin))
    ),
    # A module assigned in the victim's space, and its coachee's progress.
    *(
        Case(
            method=f"{CONTENT}/AssignModule",
            label=label,
            caller=caller,
            request=lambda w: cpb.AssignModuleRequest(
                parent=the_space(w), slug="managing-priorities"
            ),
            code=NOT_FOUND,
            reason="SPACE_NOT_FOUND",
            read_back=the_module_assignments,
        )
        for label, caller in SPACE_INTRUDERS
    ),
    Case(
        method=f"{CONTENT}/AssignModule",
        label="victims-coachee-assigns",
        caller=acme_coachee,
        request=lambda w: cpb.AssignModuleRequest(parent=the_space(w), slug="managing-priorities"),
        code=PERMISSION_DENIED,
        reason="SPACE_COACH_ONLY",
        read_back=the_module_assignments,
    ),
    *(
        Case(
            method=f"{CONTENT}/ListModuleAssignments",
            label=label,
            caller=caller,
            request=lambda w: cpb.ListModuleAssignmentsRequest(parent=the_space(w)),
            code=NOT_FOUND,
            reason="SPACE_NOT_FOUND",
            read_back=the_module_assignments,
        )
        for label, caller in SPACE_INTRUDERS
    ),
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="MODULE_ASSIGNMENT_NOT_FOUND",
            read_back=the_module_assignments,
        )
        for method, request in (
            ("OpenLesson", the_module_lesson(cpb.OpenLessonRequest)),
            ("CompleteLesson", the_module_lesson(cpb.CompleteLessonRequest)),
            (
                "GetModuleProgress",
                lambda w: cpb.GetModuleProgressRequest(assignment_id=w.acme_module_assignment_id),
            ),
        )
        for label, caller in SPACE_INTRUDERS
    ),
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label="victims-coach-takes-the-module",
            caller=acme_coach,
            request=the_module_lesson(request),
            code=PERMISSION_DENIED,
            reason="SPACE_COACHEE_ONLY",
            read_back=the_module_assignments,
        )
        for method, request in (
            ("OpenLesson", cpb.OpenLessonRequest),
            ("CompleteLesson", cpb.CompleteLessonRequest),
        )
    ),
    # The xAPI statement of a block answered: the coachee's only.
    *(
        Case(
            method=f"{CONTENT}/RecordBlockAnswered",
            label=label,
            caller=caller,
            request=an_answer,
            code=NOT_FOUND,
            reason="MODULE_ASSIGNMENT_NOT_FOUND",
            read_back=the_lrs,
        )
        for label, caller in SPACE_INTRUDERS
    ),
    Case(
        method=f"{CONTENT}/RecordBlockAnswered",
        label="victims-coach-answers-for-the-coachee",
        caller=acme_coach,
        request=an_answer,
        code=PERMISSION_DENIED,
        reason="SPACE_COACHEE_ONLY",
        read_back=the_lrs,
    ),
    # ------------------------------------------------------------ the LRS (operators only)
    *(
        Case(
            method=f"{CONTENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=the_lrs,
        )
        for method, request in (
            ("GetLrsSettings", lambda w: cpb.GetLrsSettingsRequest()),
            ("SetLrsSettings", an_lrs),
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("victims-coach", acme_coach),
            ("victims-coachee", acme_coachee),
            ("other-tenant-admin", globex_admin),
            ("other-tenant-coach", globex_coach),
        )
    ),
    # ------------------------------------------------------------ keys (operators only)
    *(
        Case(
            method=f"{CONTENT}/RotateTenantKey",
            label=label,
            caller=caller,
            request=parent(spb.RotateTenantKeyRequest),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=the_recommendations,
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
        )
    ),
]

EXEMPT: dict[str, str] = {
    f"{CONTENT}/SearchResources": (
        "no ids: the levels the caller reads, and no other "
        "(test_the_library_searched_is_the_levels_one_reads)"
    ),
}


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


@pytest.mark.parametrize("case", case_params(hidden_cases(CASES)))
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)


def test_the_library_searched_is_the_levels_one_reads(world: World) -> None:
    """acme's coach finds their own and acme's resources; acme's other coach and its admin the
    tenant's, not the coach's own; globex's people and acme's coachee neither."""
    s = stub(world)

    def found(who: Session, query: str = "") -> set[str]:
        listed = s.SearchResources(
            cpb.SearchResourcesRequest(query=query, page_size=200), metadata=who.metadata
        )
        return {r.resource_id for r in listed.resources}

    mine, house = world.acme_resource_id, world.acme_tenant_resource_id
    assert {mine, house} <= found(world.acme.coach)
    assert mine in found(world.acme.coach, "acme read")  # words as prefixes, any case
    for reader in (world.acme_other_coach, world.acme.admin):
        assert house in found(reader) and mine not in found(reader)
    for outsider in (world.globex.coach, world.globex.admin, world.globex.coachee):
        assert not {mine, house} & found(outsider)
    assert found(world.acme.coachee) == set()  # coachees read what is recommended to them
    assert not {mine, house} & found(world.operator)  # operators curate the global level only
