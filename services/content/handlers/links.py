"""The library's links, checked in the background (adapters/link_check.py: public addresses
only, ADR 0016): a batch at a time, never inside a transaction (a slow site holds no lock and
no connection). The outcome is the resource's `link_status`, which its curators see in the
library; a link whose address changed meanwhile keeps waiting for its own check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ..adapters.link_check import LinkCheck, LinkStatus
from ..storage.unit import Db

BATCH = 20

# What the library says of each outcome (services/contracts/content.py: LinkStatus).
STATUS_OF = {
    LinkStatus.OK: "ok",
    LinkStatus.TOO_LARGE: "ok",  # it answers: the link works
    LinkStatus.BROKEN: "broken",
    LinkStatus.UNREACHABLE: "unreachable",
    LinkStatus.TIMEOUT: "unreachable",
    LinkStatus.REFUSED_UNSAFE: "refused",
}


def check_due_links(db: Db, check: Callable[[str], LinkCheck], recheck_after: timedelta) -> int:
    """Checks up to BATCH links due; how many were checked."""
    with db.unit_of_work() as uow:
        due = uow.resources.due_for_check(uow.clock.now() - recheck_after, BATCH)
    for resource_id, url in due:
        outcome = check(url)
        with db.unit_of_work() as uow:
            uow.resources.record_check(
                resource_id, url, STATUS_OF[outcome.status], outcome.checked_at
            )
    return len(due)
