"""The space-copy pattern, once: a service that keeps its own copy of who coaches whom in each
space (scheduling's space copies, identity's coach links) subclasses `SpaceCopies` and writes
`record_space`. Each event of the spaces contract that carries a space's set-up has one declared
handler here, so its queue is `<service>.on_spaces_<event>` in every such service, and
tests/unit/test_space_copies.py fails when the contract gains one without a handler.

    class SchedulingService(space_copies.SpaceCopies):  # the module, not the class: see below
        def record_space(self, uow, event, envelope):
            spaces.record_space(uow, event)

Import the module, not the class, into a service module: `nameko run` takes every class with
entrypoints in the module it runs for a service.
"""

from __future__ import annotations

from typing import Any

from services.contracts import spaces as sc
from services.kernel.events import Envelope

from .eventing import on_event


class SpaceCopies:
    """One handler per `SpaceEvent`, each applying the event in the service's unit of work."""

    def record_space(self, uow: Any, event: sc.SpaceEvent, envelope: Envelope) -> None:
        raise NotImplementedError

    @on_event(sc.SpaceCreated)
    def on_spaces_space_created(self, uow: Any, event: sc.SpaceCreated, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceActivated)
    def on_spaces_space_activated(
        self, uow: Any, event: sc.SpaceActivated, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpacePaused)
    def on_spaces_space_paused(self, uow: Any, event: sc.SpacePaused, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceResumed)
    def on_spaces_space_resumed(self, uow: Any, event: sc.SpaceResumed, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceCompleted)
    def on_spaces_space_completed(
        self, uow: Any, event: sc.SpaceCompleted, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceArchived)
    def on_spaces_space_archived(
        self, uow: Any, event: sc.SpaceArchived, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceSetUpChanged)
    def on_spaces_space_set_up_changed(
        self, uow: Any, event: sc.SpaceSetUpChanged, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.CoachChanged)
    def on_spaces_coach_changed(self, uow: Any, event: sc.CoachChanged, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.CoCoachChanged)
    def on_spaces_co_coach_changed(
        self, uow: Any, event: sc.CoCoachChanged, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.CoachChangeProposed)
    def on_spaces_coach_change_proposed(
        self, uow: Any, event: sc.CoachChangeProposed, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)
