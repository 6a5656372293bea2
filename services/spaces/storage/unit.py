"""Spaces' unit of work: the repositories its handlers reach (`uow.spaces`, ...), each built on
the unit's connection when first used (`services.kernel.runtime.sql.Repository`).

Content and keys need the deployment's master key, which handlers are given as a collaborator:
`uow.spaces.unlocked(master)`, then `goals_of(space)` / `notes_of(space)` for a space's sealed
goals and notes. The service gives this class to its `Database` dependency (`service.py`).
"""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .activity import SpaceSessions, Visits
from .notes import Authors, Notes
from .spaces import Spaces
from .tools import ToolMails, Tools


class SpacesUnit(UnitOfWork):
    spaces = Repository(Spaces)
    notes = Repository(Notes)  # without a key: heads and the access log
    visits = Repository(Visits)
    space_sessions = Repository(SpaceSessions)
    authors = Repository(Authors)
    tools = Repository(Tools)  # without a key: states and rules only
    tool_mails = Repository(ToolMails)


# What spaces' handlers are given: the worker's database, whose units are SpacesUnits.
Db = WorkerDatabase[SpacesUnit]
