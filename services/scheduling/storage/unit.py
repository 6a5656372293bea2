"""Scheduling's unit of work: the repositories its handlers reach (`uow.sessions`, ...), each
built on the unit's connection when first used (`services.kernel.runtime.sql.Repository`).

The service gives this class to its `Database` dependency (`service.py`); the unit tests give
the same names, in memory, to a fake unit of work (tests/unit/fakes/scheduling.py).
"""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .availability import Availabilities
from .calendar import CalendarClaims
from .feeds import Feeds
from .policies import Policies
from .reminders import Reminders
from .requests import ChangeRequests
from .sessions import Sessions
from .spaces import Spaces
from .video import Rooms, VideoSettingsRepo


class SchedulingUnit(UnitOfWork):
    spaces = Repository(Spaces)
    policies = Repository(Policies)
    availability = Repository(Availabilities)
    sessions = Repository(Sessions)
    requests = Repository(ChangeRequests)
    reminders = Repository(Reminders)
    feeds = Repository(Feeds)
    calendar = Repository(CalendarClaims)
    video = Repository(VideoSettingsRepo)
    rooms = Repository(Rooms)


# What scheduling's handlers are given: the worker's database, whose units are SchedulingUnits.
Db = WorkerDatabase[SchedulingUnit]
