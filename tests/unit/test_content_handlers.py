"""Content's handlers on in-memory repositories (tests/unit/fakes/content.py): who writes and
reads each level of the library, the search's levels and filters, recommendations (who makes,
reads and marks them; the copy that stays; events without the note), and the erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.content.adapters.link_check import LinkCheck, LinkStatus
from services.content.handlers import links, personal_data, recommendations, resources, spaces
from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.errors import DomainError
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.content import ContentState, content_database

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
TENANT, OTHER_TENANT = "tnt_a1", "tnt_b2"
SPACE = "spc_5a"
MASTER: Any = None  # the fakes seal nothing


def person(person_id: str, *roles: str, tenant_id: str | None = TENANT) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", NOW, NOW + timedelta(1))


COACH, COACHEE = person("per_coach", "coach"), person("per_coachee", "coachee")
OTHER_COACH, HR = person("per_other", "coach"), person("per_hr", "tenant_admin")
STRANGER = person("per_coach", "coach", tenant_id=OTHER_TENANT)  # the coach, elsewhere
ELSEWHERE_HR = person("per_hr2", "tenant_admin", tenant_id=OTHER_TENANT)
OPERATOR = PersonClaims("per_op", None, (), True, "tok", NOW, NOW + timedelta(1))


def refused(reason: str, call: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.reason == reason, caught.value
    return caught.value


def space_event(kind: type[sc.SpaceEvent], status: str = "active", **changes: Any) -> Any:
    data = {
        "space_id": SPACE,
        "tenant_id": TENANT,
        "status": status,
        "coachee_person_id": COACHEE.person_id,
        "coach_person_id": COACH.person_id,
        "co_coach_person_id": None,
        "cadence": "weekly",
        "sessions_planned": 10,
        "starts_on": NOW.date(),
        "updated_at": NOW,
        **changes,
    }
    return kind.model_validate(data)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> FakeDatabase[ContentState]:
    database = content_database(clock)
    with database.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated))
    return database


def add(db: Any, who: PersonClaims, scope: str, title: str, **fields: Any) -> c.Resource:
    request = c.CreateResourceRequest(
        scope=scope,
        kind=fields.pop("kind", "article"),
        title=title,
        url=fields.pop("url", "https://example.org/" + title.lower().replace(" ", "-")),
        language=fields.pop("language", "en"),
        **fields,
    )
    return resources.create_resource(db, who, request)


def ref(r: c.Resource) -> c.ResourceRef:
    return c.ResourceRef(resource_id=r.resource_id)


def search(db: Any, who: PersonClaims, **filters: Any) -> list[str]:
    found = resources.search_resources(db, who, c.SearchResourcesRequest(**filters))
    return [r.title for r in found.resources]


def test_each_level_has_its_curators_and_readers(db: Any) -> None:
    world = add(db, OPERATOR, "global", "Global read")
    house = add(db, HR, "tenant", "House read")
    mine = add(db, COACH, "private", "My read", tags=["Feedback", " feedback ", "Écoute"])
    assert (world.tenant_id, house.tenant_id, mine.owner_person_id) == ("", TENANT, "per_coach")
    assert mine.tags == ["feedback", "écoute"]  # lower case, each once

    for who, scope, reason in (
        (HR, "global", "OPERATOR_ONLY"),
        (COACH, "global", "OPERATOR_ONLY"),
        (COACH, "tenant", "TENANT_ADMIN_ONLY"),
        (OPERATOR, "tenant", "TENANT_ADMIN_ONLY"),
        (COACHEE, "private", "COACH_ONLY"),
        (HR, "private", "COACH_ONLY"),
    ):
        refused(reason, add, db, who, scope, "Nope")

    def reads(who: PersonClaims, r: c.Resource) -> bool:
        try:
            resources.get_resource(db, who, ref(r))
        except DomainError as exc:
            assert exc.reason == "RESOURCE_NOT_FOUND"
            return False
        return True

    table = {
        # who: (global, tenant, private)
        "coach": (COACH, (True, True, True)),
        "other coach": (OTHER_COACH, (True, True, False)),
        "hr": (HR, (True, True, False)),
        "coachee": (COACHEE, (False, False, False)),
        "the coach elsewhere": (STRANGER, (True, False, False)),
        "hr elsewhere": (ELSEWHERE_HR, (True, False, False)),
        "operator": (OPERATOR, (True, False, False)),
    }
    for label, (who, expected) in table.items():
        assert tuple(reads(who, r) for r in (world, house, mine)) == expected, label


def test_only_curators_change_or_delete_and_a_new_address_is_checked_again(db: Any) -> None:
    house = add(db, HR, "tenant", "House read")
    change = c.UpdateResourceRequest(
        resource_id=house.resource_id,
        kind="book",
        title="House book",
        url="https://example.org/moved",
        language="fr",
        minutes=90,
    )
    refused("TENANT_ADMIN_ONLY", resources.update_resource, db, COACH, change)
    refused("TENANT_ADMIN_ONLY", resources.delete_resource, db, COACH, ref(house))
    for nobody in (COACHEE, ELSEWHERE_HR, STRANGER):
        refused("RESOURCE_NOT_FOUND", resources.update_resource, db, nobody, change)
        refused("RESOURCE_NOT_FOUND", resources.delete_resource, db, nobody, ref(house))
    assert resources.get_resource(db, HR, ref(house)).title == "House read"  # unchanged

    with db.unit_of_work() as uow:  # a check had run
        kept = uow.resources.get(house.resource_id)
        kept.link_status = "ok"
        uow.resources.save(kept)
    changed = resources.update_resource(db, HR, change)
    assert (changed.title, changed.kind, changed.minutes) == ("House book", "book", 90)
    assert changed.link_status == "unchecked"
    resources.delete_resource(db, HR, ref(house))
    refused("RESOURCE_NOT_FOUND", resources.get_resource, db, HR, ref(house))


def test_search_reads_the_callers_levels_with_word_prefixes_and_filters(db: Any) -> None:
    add(db, OPERATOR, "global", "Écoute active", tags=["listening"], language="fr")
    add(db, OPERATOR, "global", "Radical candor", kind="book", author="Kim Scott")
    add(db, HR, "tenant", "House feedback guide", tags=["feedback"])
    add(db, COACH, "private", "My feedback notes", tags=["feedback", "listening"])
    add(db, HR, "tenant", "Elsewhere", tags=["feedback"])  # same tenant: read below
    every = ["Elsewhere", "House feedback guide", "My feedback notes", "Radical candor"]
    assert search(db, COACH) == ["Elsewhere", "House feedback guide", "My feedback notes",
                                 "Radical candor", "Écoute active"]  # fmt: skip
    assert search(db, OTHER_COACH) == [t for t in every if t != "My feedback notes"] + [
        "Écoute active"
    ]
    assert search(db, COACHEE) == []
    assert search(db, STRANGER) == ["Radical candor", "Écoute active"]
    assert search(db, OPERATOR) == ["Radical candor", "Écoute active"]
    assert search(db, COACH, query="ECOUT") == ["Écoute active"]  # case and accents folded
    assert search(db, COACH, query="kim sc") == ["Radical candor"]  # the author, prefixes
    assert search(db, COACH, query="feed notes") == ["My feedback notes"]  # every word
    assert search(db, COACH, tags=["Feedback", "listening"]) == ["My feedback notes"]
    assert search(db, COACH, language="fr") == ["Écoute active"]
    assert search(db, COACH, kind="book") == ["Radical candor"]
    assert search(db, COACH, scope="private") == ["My feedback notes"]

    first = resources.search_resources(db, COACH, c.SearchResourcesRequest(page_size=2))
    second = resources.search_resources(
        db, COACH, c.SearchResourcesRequest(page_size=2, page_token=first.next_page_token)
    )
    assert [r.title for r in first.resources + second.resources] == search(db, COACH)[:4]
    bad = refused(
        "INVALID_ARGUMENT",
        resources.search_resources,
        db,
        COACH,
        c.SearchResourcesRequest(page_token="x"),
    )
    assert [f.field for f in bad.fields] == ["page_token"]


def recommend(db: Any, who: PersonClaims, resource: c.Resource, note: str = "") -> Any:
    request = c.RecommendRequest(space_id=SPACE, resource_id=resource.resource_id, note=note)
    return recommendations.recommend_resource(db, MASTER, who, request)


def listed(db: Any, who: PersonClaims) -> list[c.Recommendation]:
    request = c.ListRecommendationsRequest(space_id=SPACE)
    return recommendations.list_recommendations(db, MASTER, who, request).recommendations


def test_the_space_s_coach_recommends_and_its_coachee_reads_and_marks(db: Any) -> None:
    mine = add(db, COACH, "private", "My read", why="Short and to the point.")
    theirs = add(db, OTHER_COACH, "private", "Their read")
    made = recommend(db, COACH, mine, "Read it before our next session.")
    assert (made.status, made.useful, made.resource.title) == ("new", None, "My read")
    refused("SPACE_COACH_ONLY", recommend, db, COACHEE, mine)
    for nobody in (OTHER_COACH, HR, STRANGER):
        refused("SPACE_NOT_FOUND", recommend, db, nobody, mine)
    refused("RESOURCE_NOT_FOUND", recommend, db, COACH, theirs)
    [event] = db.events_of(c.ResourceRecommended)
    assert "Read it" not in event.model_dump_json() and "My read" not in event.model_dump_json()

    # The copy stays whatever the owner does to the resource.
    resources.delete_resource(db, COACH, ref(mine))
    [seen] = listed(db, COACHEE)
    assert (seen.resource.title, seen.note) == ("My read", "Read it before our next session.")
    assert listed(db, COACH) == [seen]
    for nobody in (OTHER_COACH, HR, STRANGER):
        refused("SPACE_NOT_FOUND", listed, db, nobody)

    mark = c.MarkRecommendationRequest(recommendation_id=made.recommendation_id, read=True)
    refused("SPACE_COACHEE_ONLY", recommendations.mark_recommendation, db, MASTER, COACH, mark)
    for nobody in (OTHER_COACH, HR, STRANGER):
        refused(
            "RECOMMENDATION_NOT_FOUND",
            recommendations.mark_recommendation,
            db,
            MASTER,
            nobody,
            mark,
        )
    useful = mark.model_copy(update={"useful": True})
    marked = recommendations.mark_recommendation(db, MASTER, COACHEE, useful)
    assert (marked.status, marked.useful) == ("read", True)
    recommendations.mark_recommendation(db, MASTER, COACHEE, useful)  # again: nothing new
    assert [(e.status, e.useful) for e in db.events_of(c.RecommendationMarked)] == [("read", True)]
    assert listed(db, COACH)[0].useful is True


def test_a_paused_space_takes_no_recommendation_and_a_former_coach_reaches_nothing(
    db: Any, clock: FixedClock
) -> None:
    mine = add(db, COACH, "private", "My read")
    recommend(db, COACH, mine)
    later = NOW + timedelta(minutes=1)
    with db.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpacePaused, "paused", updated_at=later))
    refused("SPACE_NOT_ACTIVE", recommend, db, COACH, mine)
    with db.unit_of_work() as uow:
        spaces.record_space(
            uow,
            space_event(
                sc.CoachChanged,
                coach_person_id=OTHER_COACH.person_id,
                previous_coach_person_id=COACH.person_id,
                updated_at=later + timedelta(minutes=1),
            ),
        )
    refused("SPACE_NOT_FOUND", listed, db, COACH)
    assert len(listed(db, OTHER_COACH)) == 1


def test_the_export_and_the_erasure_of_a_coachee_and_of_a_coach(db: Any) -> None:
    mine = add(db, COACH, "private", "My read")
    add(db, HR, "tenant", "House read")
    recommend(db, COACH, mine, "For you.")

    exported = personal_data.export_personal_data(db, MASTER, COACHEE).data
    assert [r["note"] for r in exported["recommendations_to_me"]] == ["For you."]
    assert exported["my_resources"] == []
    coach_export = personal_data.export_personal_data(db, MASTER, COACH).data
    assert [r["title"] for r in coach_export["my_resources"]] == ["My read"]
    assert coach_export["recommendations_to_me"] == []

    erased_coach = ic.PersonErased(erasure_id="era_1", person_id=COACH.person_id, requested_at=NOW)
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(uow, MASTER, erased_coach)
    assert search(db, HR) == ["House read"]  # the coach's own resources went
    [kept] = listed(db, COACHEE)  # what the coachee was given stays theirs
    assert kept.recommended_by_person_id == "erased"

    erased_coachee = ic.PersonErased(
        erasure_id="era_2", person_id=COACHEE.person_id, requested_at=NOW
    )
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(uow, MASTER, erased_coachee)
        personal_data.erase_personal_data(uow, MASTER, erased_coachee)  # twice: the same
    assert db.state.recommendations == {}
    assert len(db.events_of(personal_data.completion_event(c.SERVICE))) == 3


def test_links_due_are_checked_unchecked_first_then_again_after_a_week(
    db: Any, clock: FixedClock
) -> None:
    fine = add(db, COACH, "private", "Fine", url="https://example.org/fine")
    gone = add(db, HR, "tenant", "Gone", url="https://example.org/gone")
    outcomes = {
        fine.url: LinkStatus.TOO_LARGE,  # it answers: the link works
        gone.url: LinkStatus.BROKEN,
    }
    asked: list[str] = []

    def check(url: str) -> LinkCheck:
        asked.append(url)
        return LinkCheck(url, outcomes[url], clock.now())

    week = timedelta(days=7)
    assert links.check_due_links(db, check, week) == 2
    assert resources.get_resource(db, COACH, ref(fine)).link_status == "ok"
    assert resources.get_resource(db, HR, ref(gone)).link_status == "broken"
    assert links.check_due_links(db, check, week) == 0  # nothing due yet
    clock.advance(week + timedelta(seconds=1))
    outcomes[gone.url] = LinkStatus.REFUSED_UNSAFE
    assert links.check_due_links(db, check, week) == 2
    assert resources.get_resource(db, HR, ref(gone)).link_status == "refused"
    assert len(asked) == 4
