"""Content's unit of work: the repositories its handlers reach (`uow.resources`, ...), each
built on the unit's connection when first used (`services.kernel.runtime.sql.Repository`).

Recommendations' notes need the deployment's master key, which handlers are given as a
collaborator: `uow.recommendations.unlocked(master)`. The unit tests give the same names, in
memory, to a fake unit of work (tests/unit/fakes/content.py).
"""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .modules import ModuleAssignments, ModuleProgress, ModuleVersions
from .recommendations import Recommendations
from .resources import Resources
from .spaces import Spaces
from .tools import Tools
from .xapi import Xapi


class ContentUnit(UnitOfWork):
    spaces = Repository(Spaces)
    tools = Repository(Tools)
    resources = Repository(Resources)
    recommendations = Repository(Recommendations)  # without a key until unlocked(master)
    module_versions = Repository(ModuleVersions)
    module_assignments = Repository(ModuleAssignments)
    module_progress = Repository(ModuleProgress)
    xapi = Repository(Xapi)


# What content's handlers are given: the worker's database, whose units are ContentUnits.
Db = WorkerDatabase[ContentUnit]
