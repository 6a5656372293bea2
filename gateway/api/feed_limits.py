"""The calendar feed's rate limits, per feed and per client address: one hour's moving windows
(`limits`) kept in this process's memory (behind several processes, each counts its own).

Both doors use it: the web gateway, which serves `/calendar/<secret>.ics`, and the gRPC
gateway's public `GetCalendarFeed`, which anyone may call directly.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "calendar-feed"


class FeedLimiter:
    def __init__(self, per_feed_hour: int, per_address_hour: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_feed = RateLimitItemPerHour(per_feed_hour)
        self._per_address = RateLimitItemPerHour(per_address_hour)

    def retry_after(self, token: str, address: str) -> int | None:
        """Counts one request of feed `token` from `address`: None if it may be served, else
        the seconds to wait (at least 1). The address is counted first, so a client trying
        many secrets runs out without touching the feeds' own counts."""
        for item, key in ((self._per_address, address), (self._per_feed, token)):
            if not self._limiter.hit(item, NAMESPACE, key):
                reset = self._limiter.get_window_stats(item, NAMESPACE, key).reset_time
                return max(1, int(reset - time.time()))
        return None
