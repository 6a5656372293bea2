"""Reporting's unit of work: the fact tables its handlers reach (`uow.members`, ...)."""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .facts import Assessments, Goals, Members, Modules, Sessions, Spaces, Tools
from .reports import ReportCounts


class ReportingUnit(UnitOfWork):
    members = Repository(Members)
    spaces = Repository(Spaces)
    sessions = Repository(Sessions)
    goals = Repository(Goals)
    tools = Repository(Tools)
    assessments = Repository(Assessments)
    modules = Repository(Modules)
    report_counts = Repository(ReportCounts)  # a report's counts, counted in SQL


# What reporting's handlers are given: the worker's database, whose units are ReportingUnits.
Db = WorkerDatabase[ReportingUnit]
