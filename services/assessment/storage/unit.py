"""Assessment's unit of work: the repositories its handlers reach (`uow.spaces`, ...), each
built on the unit's connection when first used (`services.kernel.runtime.sql.Repository`).

Answers need the deployment's master key, which handlers are given as a collaborator:
`uow.assignments.unlocked(master)`. The service gives this class to its `Database` dependency
(`service.py`); the unit tests give the same names, in memory, to a fake unit of work
(tests/unit/fakes/assessment.py).
"""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .assignments import Assignments
from .instruments import Instruments
from .raters import Raters
from .spaces import Spaces
from .tools import Tools


class AssessmentUnit(UnitOfWork):
    spaces = Repository(Spaces)
    tools = Repository(Tools)
    instruments = Repository(Instruments)
    assignments = Repository(Assignments)  # without a key until unlocked(master)
    raters = Repository(Raters)


# What assessment's handlers are given: the worker's database, whose units are AssessmentUnits.
Db = WorkerDatabase[AssessmentUnit]
