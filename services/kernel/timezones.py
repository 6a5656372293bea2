"""IANA time zones, checked once for every service (rule 7: every person and series has one)."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import invalid


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(zone: str, field_name: str = "time_zone") -> str:
    """`zone` if it is an IANA time zone of the pinned tz database, else INVALID_ARGUMENT."""
    if zone not in _zones():
        raise invalid(**{field_name: "must be an IANA time zone such as Europe/Paris"})
    try:
        ZoneInfo(zone)
    except ZoneInfoNotFoundError:
        raise invalid(**{field_name: "must be an IANA time zone such as Europe/Paris"}) from None
    return zone


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
