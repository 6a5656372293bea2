"""Assessment's unit of work: the repositories its handlers reach, each built on the unit's
connection when first used (`services.kernel.runtime.sql.Repository`). The service gives this
class to its `Database` dependency (`service.py`)."""

from __future__ import annotations

from services.kernel.runtime.sql import UnitOfWork, WorkerDatabase


class AssessmentUnit(UnitOfWork):
    pass


# What assessment's handlers are given: the worker's database, whose units are AssessmentUnits.
Db = WorkerDatabase[AssessmentUnit]
