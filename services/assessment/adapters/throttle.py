"""The raters' public methods' rate limits, per link and per client address: one hour's moving
windows kept in this worker's memory (each worker counts its own), like the calendar feed's
(gateway/api/feed_limits.py). The address is counted first, so a client trying many tokens runs
out without touching the links' own counts."""

from __future__ import annotations

import time

from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from services.kernel.errors import ResourceExhausted

NAMESPACE = "assessment-rater"
PER_LINK_HOUR = 60  # a rater opening the page again and again, a few submissions refused
PER_ADDRESS_HOUR = 600  # an office behind one address, many raters


class RaterLimiter:
    def __init__(
        self, per_link_hour: int = PER_LINK_HOUR, per_address_hour: int = PER_ADDRESS_HOUR
    ):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_link = RateLimitItemPerHour(per_link_hour)
        self._per_address = RateLimitItemPerHour(per_address_hour)

    def check(self, token: str, address: str) -> None:
        """Counts one request for link `token` from `address`; RESOURCE_EXHAUSTED (with
        retry_after_seconds) when either is over its limit."""
        for item, key in ((self._per_address, address or "-"), (self._per_link, token)):
            if not self._limiter.hit(item, NAMESPACE, key):
                reset = self._limiter.get_window_stats(item, NAMESPACE, key).reset_time
                wait = max(1, int(reset - time.time()))
                raise ResourceExhausted(
                    f"Too many requests for this link; try again in {wait} s.",
                    reason="RATER_LINK_THROTTLED",
                    metadata={"retry_after_seconds": str(wait)},
                )
