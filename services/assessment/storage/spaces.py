"""The copies of spaces assessment keeps from spaces' events (the kernel's SpaceCopyStore)."""

from __future__ import annotations

from sqlalchemy import Connection

from services.kernel.runtime.space_copies import SpaceCopyStore

from .tables import spaces


class Spaces(SpaceCopyStore):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, spaces)
