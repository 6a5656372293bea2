"""The kernel's ToolCopyStore in memory (services/kernel/runtime/tool_copies.py), for every
service that serves toolbox targets: over a state with a `tools` dict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.kernel.tool_copy import ToolCopy, supersedes


class FakeToolCopies:
    """The kernel's ToolCopyStore, in memory."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def get(self, tool_id: str) -> ToolCopy | None:
        return self.state.tools.get(tool_id)

    def apply(self, copy_: ToolCopy) -> bool:
        if not supersedes(copy_, self.state.tools.get(copy_.tool_id)):
            return False
        self.state.tools[copy_.tool_id] = copy_
        return True

    def of_target(self, kind: str, target_id: str) -> list[ToolCopy]:
        return [t for t in self.state.tools.values() if (t.kind, t.target_id) == (kind, target_id)]

    def of_targets(self, kind: str, target_ids: Iterable[str]) -> dict[str, list[ToolCopy]]:
        found: dict[str, list[ToolCopy]] = {}
        for target_id in set(target_ids):
            tools = self.of_target(kind, target_id)
            if tools:
                found[target_id] = tools
        return found
