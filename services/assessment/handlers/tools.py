"""The space's toolbox, as assessment follows it: the copy of each tool naming an assignment,
kept from spaces' `spaces.tool_*` events (the kernel's ToolCopies), so that an assignment a
locked tool holds is refused to the coachee (handlers/access.py). docs/adr/0019-toolbox-gates.md.
"""

from __future__ import annotations

from services.contracts import spaces as sc
from services.kernel.events import Envelope
from services.kernel.runtime.tool_copies import tool_copy_of

from ..storage.unit import AssessmentUnit

KIND = sc.ToolKind.ASSESSMENT.value  # the tools whose target is an assessment assignment


def record_tool(uow: AssessmentUnit, event: sc.ToolEvent, envelope: Envelope) -> None:
    """Keep the tool's newest state when its target is an assignment (other kinds are other
    services' business). Whether the assignment exists yet does not matter: the copy is looked
    up by target id when the assignment is read."""
    if event.kind == KIND and event.target_id:
        uow.tools.apply(tool_copy_of(event, envelope))
