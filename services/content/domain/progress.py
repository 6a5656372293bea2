"""A coachee's progress through one version of a module. Plain Python, no infrastructure: every
change is given the instant it happened (`now`, from the service's Clock).

- Position: the lesson to resume at. Opening a lesson moves it there; completing a lesson moves
  it to the next one (the last lesson stays the position once completed).
- Lessons completed only grow; the module is completed when every lesson is, once, and stays so.
- Time spent adds up the intervals between two signs of presence (a view, a completion, the
  page's heartbeat), each counted for at most MAX_COUNTED_INTERVAL: a tab left open over lunch
  counts minutes, not hours. An instant earlier than the last one seen (messages reordered)
  adds nothing, so time never goes back.
- A progress keeps the version it started with (`version_to_take`): a new version of the module
  does not move a coachee who is on their way.

`start` and `complete` return the transitions the service publishes as `content.module_started`
and `content.module_completed` (ids and state only: the module's slug and version, counts,
seconds; the service adds who and where).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.kernel.errors import invalid
from services.kernel.i18n import N_

from .modules import Module

MAX_COUNTED_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class ModuleStarted:
    slug: str
    version: int
    lesson_count: int
    occurred_at: datetime


@dataclass(frozen=True)
class ModuleCompleted:
    slug: str
    version: int
    lesson_count: int
    seconds: int
    occurred_at: datetime


@dataclass(frozen=True)
class Progress:
    slug: str
    version: int
    lessons: tuple[str, ...]  # the keys of the started version's lessons, in order
    position: str
    completed: frozenset[str]
    seconds: int
    started_at: datetime
    last_seen_at: datetime
    completed_at: datetime | None = None

    @classmethod
    def start(cls, module: Module, now: datetime) -> tuple[Progress, ModuleStarted]:
        """A coachee opens a module for the first time: at its first lesson."""
        keys = module.lesson_keys
        if not keys:  # a checked module has lessons: this is a bug, not input
            raise ValueError(f"module {module.slug} v{module.version} has no lesson")
        progress = cls(
            slug=module.slug,
            version=module.version,
            lessons=keys,
            position=keys[0],
            completed=frozenset(),
            seconds=0,
            started_at=now,
            last_seen_at=now,
        )
        return progress, ModuleStarted(module.slug, module.version, len(keys), now)

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    @property
    def lessons_completed(self) -> int:
        return len(self.completed)

    def resume_at(self) -> str:
        """The lesson to open when the coachee comes back."""
        return self.position

    def seen(self, now: datetime) -> Progress:
        """A sign of presence (the page's heartbeat): time spent, nothing else."""
        delta = now - self.last_seen_at
        counted = min(delta, MAX_COUNTED_INTERVAL) if delta > timedelta(0) else timedelta(0)
        return replace(
            self,
            seconds=self.seconds + int(counted.total_seconds()),
            last_seen_at=max(self.last_seen_at, now),
        )

    def view(self, lesson: str, now: datetime) -> Progress:
        """The coachee opens a lesson: the place to resume at."""
        self._check_lesson(lesson)
        return replace(self.seen(now), position=lesson)

    def complete(self, lesson: str, now: datetime) -> tuple[Progress, ModuleCompleted | None]:
        """The coachee finishes a lesson; the module's completion when it was the last one
        left (once: completing a lesson again changes only the time spent)."""
        self._check_lesson(lesson)
        progress = self.seen(now)
        index = self.lessons.index(lesson)
        position = self.lessons[min(index + 1, len(self.lessons) - 1)]
        progress = replace(progress, completed=progress.completed | {lesson}, position=position)
        if progress.is_completed or len(progress.completed) < len(self.lessons):
            return progress, None
        progress = replace(progress, completed_at=now)
        return progress, ModuleCompleted(
            self.slug, self.version, len(self.lessons), progress.seconds, now
        )

    def _check_lesson(self, lesson: str) -> None:
        if lesson not in self.lessons:
            raise invalid(lesson=N_("is not a lesson of this module's version"))


def version_to_take(progress: Progress | None, latest: int) -> int:
    """The version a coachee reads: the one they started, or else the latest."""
    return progress.version if progress is not None else latest
