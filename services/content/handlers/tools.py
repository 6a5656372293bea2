"""The space's toolbox, as content follows it: the copy of each tool naming a recommendation
(kind resource) or a module assignment (kind module), kept from spaces' `spaces.tool_*` events
(the kernel's ToolCopies), so that a target a locked tool holds is refused to the coachee
(handlers/recommendations.py, handlers/modules.py). docs/adr/0019-toolbox-gates.md."""

from __future__ import annotations

from services.contracts import spaces as sc
from services.kernel.events import Envelope
from services.kernel.runtime.tool_copies import tool_copy_of

from ..storage.unit import ContentUnit

RESOURCE = sc.ToolKind.RESOURCE.value  # target: a recommendation into the space (rec_...)
MODULE = sc.ToolKind.MODULE.value  # target: a module assignment of the space (mas_...)


def record_tool(uow: ContentUnit, event: sc.ToolEvent, envelope: Envelope) -> None:
    """Keep the tool's newest state when its target is content's (other kinds are other
    services' business). Whether the target exists yet does not matter: the copy is looked up
    by target id when the target is read."""
    if event.kind in (RESOURCE, MODULE) and event.target_id:
        uow.tools.apply(tool_copy_of(event, envelope))
