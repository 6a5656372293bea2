"""Content's handlers on its real database: the library's levels and the search's SQL (word
prefixes with case and accents folded, tags, language, kind, pages), a recommendation whose
note is sealed at rest, a tenant key rotation after which it still opens, and the erasure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.content.handlers import keys, personal_data, recommendations, resources, spaces
from services.content.storage.tables import recommendations as recommendation_rows
from services.content.storage.unit import ContentUnit
from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.errors import DomainError
from services.kernel.ids import new_id
from services.kernel.runtime.sql import WorkerDatabase, make_engine

START = datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def db() -> Iterator[WorkerDatabase[ContentUnit]]:
    engine = make_engine(settings().database_url_for("content"), pool_size=2)
    database = WorkerDatabase(engine, FixedClock(START), unit=ContentUnit)
    yield database
    database.close()
    engine.dispose()


@pytest.fixture
def master() -> MasterKey:
    return master_key_from(settings())


def person(person_id: str, tenant_id: str | None, *roles: str) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", START, START + timedelta(1))


def operator() -> PersonClaims:
    return PersonClaims(new_id("per"), None, (), True, "tok", START, START + timedelta(1))


def refused(reason: str, call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.reason == reason, caught.value
    return caught.value


def add(
    db: WorkerDatabase[ContentUnit], who: PersonClaims, scope: str, title: str, **more: object
) -> c.Resource:
    fields: dict[str, object] = {
        "scope": scope,
        "kind": "article",
        "title": title,
        "url": "https://example.org/" + new_id("x"),
        "language": "en",
        **more,
    }
    return resources.create_resource(db, who, c.CreateResourceRequest.model_validate(fields))


def test_the_search_reads_the_callers_levels_with_prefixes_tags_and_pages(
    db: WorkerDatabase[ContentUnit],
) -> None:
    tenant, elsewhere = new_id("tnt"), new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    other = person(new_id("per"), elsewhere, "coach")
    marker = new_id("m")[4:]  # a word no other test's resources hold
    add(db, coach, "private", f"Écoute active {marker}", language="fr", tags=["listening"])
    add(db, coach, "private", f"Feedback that lands {marker}", author="Kim Scott", kind="book")
    add(db, coach, "private", f"Feedback in teams {marker}", tags=["feedback", "Teams"])
    add(db, other, "private", f"Someone else's feedback {marker}")

    def titles(who: PersonClaims, **filters: object) -> list[str]:
        request = c.SearchResourcesRequest.model_validate({"query": marker, **filters})
        found = resources.search_resources(db, who, request)
        return [r.title.removesuffix(f" {marker}") for r in found.resources]

    assert sorted(titles(coach)) == ["Feedback in teams", "Feedback that lands", "Écoute active"]
    assert titles(other) == ["Someone else's feedback"]
    assert titles(coach, query=f"{marker} ECOUT") == ["Écoute active"]
    assert titles(coach, query=f"{marker} kim sco") == ["Feedback that lands"]
    assert titles(coach, query=f"{marker} feed team") == ["Feedback in teams"]
    assert titles(coach, query=f"{marker} feed", tags=["teams"]) == ["Feedback in teams"]
    assert titles(coach, language="fr") == ["Écoute active"]
    assert titles(coach, kind="book") == ["Feedback that lands"]
    # A query of symbols only is no filter; SQL's own operators are plain characters here.
    assert len(titles(coach, query=f"{marker} & | ! :* ' ")) == 3

    first = resources.search_resources(
        db, coach, c.SearchResourcesRequest(query=marker, page_size=2)
    )
    rest = resources.search_resources(
        db,
        coach,
        c.SearchResourcesRequest(query=marker, page_size=2, page_token=first.next_page_token),
    )
    assert len(first.resources) == 2 and len(rest.resources) == 1 and not rest.next_page_token
    seen = {r.resource_id for r in first.resources + rest.resources}
    assert len(seen) == 3


def test_a_recommendation_sealed_at_rest_survives_a_key_rotation_then_an_erasure(
    db: WorkerDatabase[ContentUnit], master: MasterKey
) -> None:
    tenant = new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    coachee = person(new_id("per"), tenant, "coachee")
    space_id = new_id("spc")
    event = sc.SpaceActivated.model_validate(
        {
            "space_id": space_id,
            "tenant_id": tenant,
            "status": "active",
            "coachee_person_id": coachee.person_id,
            "coach_person_id": coach.person_id,
            "co_coach_person_id": None,
            "cadence": "weekly",
            "sessions_planned": 8,
            "starts_on": START.date(),
            "updated_at": START,
        }
    )
    with db.unit_of_work() as uow:
        spaces.record_space(uow, event)
    mine = add(db, coach, "private", "A read for you")
    note = "Lisez le chapitre deux avant jeudi."
    made = recommendations.recommend_resource(
        db,
        master,
        coach,
        c.RecommendRequest(space_id=space_id, resource_id=mine.resource_id, note=note),
    )
    with db.read_only() as uow:
        stored = uow.connection.execute(
            select(recommendation_rows.c.note).where(
                recommendation_rows.c.id == made.recommendation_id
            )
        ).scalar_one()
    assert "chapitre" not in stored and note not in stored

    rotation = keys.rotate_tenant_key(db, master, operator(), c.TenantRef(tenant_id=tenant))
    assert rotation.rewrapped == 1
    request = c.ListRecommendationsRequest(space_id=space_id)
    [seen] = recommendations.list_recommendations(db, master, coachee, request).recommendations
    assert seen.note == note
    refused(
        "OPERATOR_ONLY", keys.rotate_tenant_key, db, master, coach, c.TenantRef(tenant_id=tenant)
    )

    erased = ic.PersonErased(
        erasure_id=new_id("era"), person_id=coachee.person_id, requested_at=START
    )
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(uow, master, erased)
        personal_data.erase_personal_data(uow, master, erased)  # a replay
    with db.read_only() as uow:
        left = uow.connection.execute(
            select(recommendation_rows.c.id).where(recommendation_rows.c.space_id == space_id)
        ).all()
    assert left == []
