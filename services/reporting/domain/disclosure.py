"""The disclosure rule: what HR may see of a breakdown of people (the confidentiality core).

A report is shown only over groups of at least MIN_GROUP distinct coachees, counted after every
filter. `disclose` takes the population of each group of a breakdown (the groups partition the
filtered population: each coachee is in exactly one) and says which groups are shown and which
are merged into "others":

- a filtered total under MIN_GROUP shows nothing at all;
- a group under MIN_GROUP is merged into "others";
- if "others" is then non-empty but still under MIN_GROUP, the smallest shown groups join it
  (complementary suppression) until it reaches MIN_GROUP or no group is left shown, so that no
  hidden group can be found by subtracting the shown groups from the total.

Hence every shown group holds at least MIN_GROUP people, the hidden part is empty or holds at
least MIN_GROUP people, and the shown groups plus "others" make the total.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

MIN_GROUP = 5

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Disclosure(Generic[K]):
    """What may be shown of one breakdown.

    `shown`: the groups shown, with their populations (largest first); `others`: the groups
    merged into "others"; `total`: the population of the whole breakdown. When `disclosed` is
    False nothing of it may be shown, not even the total."""

    shown: dict[K, int]
    others: frozenset[K]
    others_population: int
    total: int

    @property
    def disclosed(self) -> bool:
        return self.total >= MIN_GROUP

    def shown_as(self, group: K) -> K | None:
        """The group a member of `group` is counted in: itself if shown, None for "others"."""
        return group if group in self.shown else None


def disclose(populations: Mapping[K, int], min_group: int = MIN_GROUP) -> Disclosure[K]:
    """Apply the rule to a breakdown's populations (distinct coachees per group, after filters;
    groups of no one are left out)."""
    groups = {k: n for k, n in populations.items() if n > 0}
    total = sum(groups.values())
    if total < min_group:
        return Disclosure(shown={}, others=frozenset(groups), others_population=total, total=total)
    # Largest first; ties in a stable, deterministic order (by the group's text).
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0])))
    shown = [(k, n) for k, n in ordered if n >= min_group]
    others = {k for k, n in ordered if n < min_group}
    others_population = sum(groups[k] for k in others)
    while 0 < others_population < min_group and shown:
        smallest, n = shown.pop()  # the last is the smallest
        others.add(smallest)
        others_population += n
    return Disclosure(
        shown=dict(shown),
        others=frozenset(others),
        others_population=others_population,
        total=total,
    )
