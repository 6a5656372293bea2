"""A coachee's progress through a module (services/content/domain/progress.py): where they resume,
what they completed, the time they spent (capped per interval), the started and completed
transitions, and the version they keep. Examples first, then properties over any sequence of
views, completions and heartbeats (hypothesis, deterministic as in test_contract_fuzz.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.content.domain.modules import Lesson, Module, Text, TextBlock
from services.content.domain.progress import (
    MAX_COUNTED_INTERVAL,
    ModuleCompleted,
    ModuleStarted,
    Progress,
    version_to_take,
)
from services.kernel.errors import InvalidArgument

PROPERTY = settings(
    derandomize=True,
    database=None,
    max_examples=150,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def module(*keys: str, version: int = 1) -> Module:
    return Module(
        slug="managing-priorities",
        version=version,
        title=Text(en="Priorities", fr="Priorités"),
        summary=Text(en="Sort.", fr="Trier."),
        minutes=20,
        lessons=tuple(
            Lesson(k, Text(en=k, fr=k), (TextBlock(Text(en="Read.", fr="Lire.")),))
            for k in keys or ("one", "two", "three")
        ),
    ).check()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_starting_opens_the_first_lesson_and_says_so() -> None:
    progress, started = Progress.start(module(version=3), T0)
    assert progress.resume_at() == "one"
    assert (progress.version, progress.seconds, progress.lessons_completed) == (3, 0, 0)
    assert not progress.is_completed
    assert started == ModuleStarted("managing-priorities", 3, 3, T0)


def test_the_coachee_resumes_at_the_lesson_they_opened_last() -> None:
    progress, _ = Progress.start(module(), T0)
    progress = progress.view("three", T0 + minutes(1)).view("two", T0 + minutes(2))
    assert progress.resume_at() == "two"


def test_completing_a_lesson_moves_on_to_the_next_and_the_last_stays() -> None:
    progress, _ = Progress.start(module(), T0)
    progress, done = progress.complete("one", T0 + minutes(1))
    assert (progress.resume_at(), done) == ("two", None)
    progress, _ = progress.complete("three", T0 + minutes(2))
    assert progress.resume_at() == "three"


def test_the_module_is_completed_once_when_every_lesson_is() -> None:
    progress, _ = Progress.start(module(), T0)
    progress, _ = progress.complete("two", T0 + minutes(3))
    progress, _ = progress.complete("one", T0 + minutes(6))
    assert not progress.is_completed
    progress, done = progress.complete("three", T0 + minutes(9))
    assert done == ModuleCompleted("managing-priorities", 1, 3, 9 * 60, T0 + minutes(9))
    assert progress.completed_at == T0 + minutes(9)
    again, twice = progress.complete("one", T0 + minutes(10))
    assert twice is None
    assert again.completed_at == T0 + minutes(9)
    assert again.seconds == 10 * 60


def test_time_counts_at_most_the_cap_per_interval() -> None:
    progress, _ = Progress.start(module(), T0)
    progress = progress.seen(T0 + minutes(2))  # 2 minutes reading
    progress = progress.seen(T0 + minutes(2) + timedelta(hours=3))  # a tab left open
    assert progress.seconds == 2 * 60 + int(MAX_COUNTED_INTERVAL.total_seconds())


def test_an_instant_from_the_past_adds_no_time_and_does_not_move_the_clock_back() -> None:
    progress, _ = Progress.start(module(), T0)
    progress = progress.seen(T0 + minutes(4))
    late = progress.seen(T0 + minutes(1))
    assert (late.seconds, late.last_seen_at) == (4 * 60, T0 + minutes(4))
    assert late.seen(T0 + minutes(5)).seconds == 5 * 60


def test_a_lesson_of_another_module_is_refused() -> None:
    progress, _ = Progress.start(module(), T0)
    for change in (progress.view, progress.complete):
        with pytest.raises(InvalidArgument) as caught:
            change("four", T0)
        assert [f.field for f in caught.value.fields] == ["lesson"]


def test_a_coachee_in_progress_keeps_their_version() -> None:
    progress, _ = Progress.start(module(version=2), T0)
    assert version_to_take(progress, latest=3) == 2
    assert version_to_take(None, latest=3) == 3


# ---------------------------------------------------------------- properties

KEYS = ("one", "two", "three", "four")
actions = st.lists(
    st.tuples(
        st.sampled_from(("view", "complete", "seen")),
        st.sampled_from(KEYS),
        # seconds since the previous action: some back in time, some hours later
        st.integers(min_value=-3600, max_value=6 * 3600),
    ),
    max_size=40,
)


@PROPERTY
@given(st.integers(min_value=1, max_value=4), actions)
def test_progress_invariants_hold_for_any_sequence(
    lesson_count: int, steps: list[tuple[str, str, int]]
) -> None:
    taken = module(*KEYS[:lesson_count])
    progress, _ = Progress.start(taken, T0)
    now = T0
    completions = 0
    for action, key, seconds in steps:
        now += timedelta(seconds=seconds)
        before = progress
        if key not in taken.lesson_keys and action != "seen":
            with pytest.raises(InvalidArgument):
                getattr(progress, action)(key, now)
            continue
        if action == "view":
            progress = progress.view(key, now)
        elif action == "complete":
            progress, done = progress.complete(key, now)
            completions += done is not None
        else:
            progress = progress.seen(now)
        # completion only grows, and is reached exactly when every lesson is completed
        assert before.completed <= progress.completed
        assert before.completed_at is None or progress.completed_at == before.completed_at
        assert progress.is_completed == (progress.completed == set(taken.lesson_keys))
        # time never goes back, never exceeds the cap per step, never is negative
        gained = progress.seconds - before.seconds
        assert 0 <= gained <= MAX_COUNTED_INTERVAL.total_seconds()
        assert progress.last_seen_at >= before.last_seen_at
        # the position is always a lesson of the version started, which never changes
        assert progress.resume_at() in taken.lesson_keys
        assert (progress.slug, progress.version, progress.lessons) == (
            taken.slug,
            taken.version,
            taken.lesson_keys,
        )
    assert progress.seconds >= 0
    assert completions == (1 if progress.is_completed else 0)
