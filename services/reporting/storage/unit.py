"""Reporting's unit of work: the fact tables its handlers reach (`uow.members`, ...)."""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .digests import Digests
from .facts import (
    Assessments,
    FactStore,
    Goals,
    Members,
    Modules,
    Sessions,
    SpaceMonths,
    Spaces,
    SpaceTools,
    SpaceYears,
    Tools,
)
from .reports import ReportCounts


class ReportingUnit(UnitOfWork):
    members = Repository(Members)
    spaces = Repository(Spaces)
    sessions = Repository(Sessions)
    goals = Repository(Goals)
    tools = Repository(Tools)
    assessments = Repository(Assessments)
    modules = Repository(Modules)
    digests = Repository(Digests)
    report_counts = Repository(ReportCounts)  # a report's counts, counted in SQL
    space_months = Repository(SpaceMonths)  # counts kept by triggers (migration 0004)
    space_tools = Repository(SpaceTools)
    space_years = Repository(SpaceYears)  # mirrored from space_months (migration 0005)

    def fact_stores(self) -> dict[str, FactStore]:
        """Every table of facts, by its name (a rebuild empties them all), then the counts kept
        from them (emptied last: the facts' deletes have brought them to zero)."""
        stores: list[FactStore] = [
            self.members,
            self.spaces,
            self.sessions,
            self.goals,
            self.tools,
            self.assessments,
            self.modules,
            self.space_months,
            self.space_tools,
            self.space_years,
        ]
        return {store.table.name: store for store in stores}


# What reporting's handlers are given: the worker's database, whose units are ReportingUnits.
Db = WorkerDatabase[ReportingUnit]
