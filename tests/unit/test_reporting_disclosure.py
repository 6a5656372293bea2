"""The disclosure rule (services/reporting/domain/disclosure.py): no group under MIN_GROUP
people is shown, nor can one be derived from the total and the shown groups."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.reporting.domain.disclosure import MIN_GROUP, disclose

populations = st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 40), max_size=12)


def test_min_group_is_five() -> None:
    assert MIN_GROUP == 5


def test_a_total_under_five_shows_nothing() -> None:
    shown = disclose({"a": 2, "b": 2})
    assert not shown.disclosed
    assert shown.shown == {}


def test_groups_of_five_or_more_are_shown_largest_first() -> None:
    shown = disclose({"sales": 5, "ops": 7})
    assert list(shown.shown.items()) == [("ops", 7), ("sales", 5)]
    assert shown.others == frozenset()
    assert shown.total == 12


def test_a_small_group_is_merged_with_the_smallest_shown_one() -> None:
    # ops (4) alone in "others" would be 12 - 8 = 4: sales joins it.
    shown = disclose({"hr": 8, "sales": 6, "ops": 4})
    assert shown.shown == {"hr": 8}
    assert shown.others == frozenset({"sales", "ops"})
    assert shown.others_population == 10


def test_small_groups_that_make_five_together_stay_others_alone() -> None:
    shown = disclose({"hr": 8, "a": 3, "b": 2})
    assert shown.shown == {"hr": 8}
    assert shown.others_population == 5


def test_everything_merges_when_no_group_can_stay_shown() -> None:
    shown = disclose({"hr": 5, "a": 1})
    assert shown.disclosed
    assert shown.shown == {}
    assert shown.others_population == 6


def test_empty_groups_are_left_out() -> None:
    shown = disclose({"hr": 6, "none": 0})
    assert shown.shown == {"hr": 6}
    assert shown.others == frozenset()


@given(populations)
def test_every_shown_group_has_at_least_five_people(groups: dict[str, int]) -> None:
    assert all(n >= MIN_GROUP for n in disclose(groups).shown.values())


@given(populations)
def test_the_hidden_part_is_empty_or_at_least_five(groups: dict[str, int]) -> None:
    shown = disclose(groups)
    if shown.disclosed:
        assert shown.others_population == 0 or shown.others_population >= MIN_GROUP
    else:
        assert shown.shown == {}


@given(populations)
def test_shown_and_others_make_the_total(groups: dict[str, int]) -> None:
    shown = disclose(groups)
    assert sum(shown.shown.values()) + shown.others_population == shown.total
    assert shown.total == sum(groups.values())
    assert shown.others_population == sum(groups[k] for k in shown.others)
    assert set(shown.shown).isdisjoint(shown.others)


@given(populations)
def test_a_total_under_five_is_never_disclosed(groups: dict[str, int]) -> None:
    shown = disclose(groups)
    assert shown.disclosed == (sum(groups.values()) >= MIN_GROUP)


@given(populations)
def test_only_as_many_groups_as_needed_are_merged(groups: dict[str, int]) -> None:
    """A shown group was never merged needlessly: the groups merged beyond the small ones are
    the smallest shown, and each was needed to bring "others" to five."""
    shown = disclose(groups)
    if not shown.disclosed or not shown.shown:
        return
    small = sum(n for n in groups.values() if 0 < n < MIN_GROUP)
    merged_large = sorted(groups[k] for k in shown.others if groups[k] >= MIN_GROUP)
    if merged_large:
        assert 0 < small < MIN_GROUP
        assert min(shown.shown.values()) >= max(merged_large)
        assert len(merged_large) == 1  # one group of five or more always suffices
