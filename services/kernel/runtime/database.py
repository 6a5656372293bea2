"""The database dependency: one connection per worker, a unit of work per use case.

The pool is sized to the container's workers plus a margin for timers and the key cache, so a
worker never waits for a connection another worker holds (rule: pool >= max_workers + timers).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic

from nameko.extensions import DependencyProvider
from sqlalchemy import Engine

from .. import metrics
from ..clock import clock_for
from ..config import settings
from .metric_sources import pool_samples
from .sql import Repository, U, UnitOfWork, WorkerDatabase, make_engine

__all__ = ["Database", "Repository", "UnitOfWork", "WorkerDatabase", "make_engine"]

DEFAULT_MAX_WORKERS = 10  # nameko's own default


class Database(DependencyProvider, Generic[U]):  # type: ignore[misc]
    """`unit`: the service's unit of work class, which declares its repositories (the kernel's
    bare `UnitOfWork` by default)."""

    def __init__(
        self,
        service: str,
        extra_connections: int = 4,
        unit: type[U] = UnitOfWork,  # type: ignore[assignment]
    ) -> None:
        self.service = service
        self.unit = unit
        self.extra_connections = extra_connections
        self.engine: Engine | None = None
        self._workers: weakref.WeakKeyDictionary[Any, WorkerDatabase[U]] = (
            weakref.WeakKeyDictionary()
        )
        self._event_listeners: list[Callable[[], None]] = []

    def on_events_committed(self, listener: Callable[[], None]) -> None:
        """`listener` runs after every commit that recorded events (the relay's wake-up)."""
        self._event_listeners.append(listener)

    def _events_committed(self) -> None:
        for listener in self._event_listeners:
            listener()

    def setup(self) -> None:
        config = settings()
        workers = int(self.container.config.get("max_workers", DEFAULT_MAX_WORKERS))
        self.engine = make_engine(
            config.database_url_for(self.service),
            pool_size=workers + self.extra_connections,
            green=True,
        )
        self.clock = clock_for(config.env, config.test_clock_path)
        metrics.add_scrape_source(self, pool_samples(self.service, self.engine))

    def stop(self) -> None:
        metrics.remove_scrape_source(self)
        if self.engine is not None:
            self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> WorkerDatabase[U]:
        assert self.engine is not None
        db = WorkerDatabase(self.engine, self.clock, self._events_committed, self.unit)
        self._workers[worker_ctx] = db
        return db

    def worker_teardown(self, worker_ctx: Any) -> None:
        db = self._workers.pop(worker_ctx, None)
        if db is not None:
            db.close()
