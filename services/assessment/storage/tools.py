"""The copies of toolbox tools assessment keeps from spaces' events (the kernel's ToolCopyStore)."""

from __future__ import annotations

from sqlalchemy import Connection

from services.kernel.runtime.tool_copies import ToolCopyStore

from .tables import tools


class Tools(ToolCopyStore):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, tools)
