"""A tool of a space's toolbox as spaces publishes it (`spaces.tool_*`, services/contracts/
spaces.py), for the tests of the services that follow toolboxes (assessment, content): the
payload and the envelope that carries it with its sequence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.contracts import spaces as sc
from services.kernel.events import Envelope, new_event_id
from tests.support.events import publish_event

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def tool_event(
    model: type[sc.ToolEvent],
    *,
    tool_id: str,
    space_id: str,
    tenant_id: str,
    kind: str,
    target_id: str | None,
    state: str,
    sequence: int,
    done: bool = False,
) -> tuple[sc.ToolEvent, Envelope]:
    """The payload, and its envelope as spaces' relay would publish it (sequence per tool)."""
    event = model(
        tool_id=tool_id,
        space_id=space_id,
        tenant_id=tenant_id,
        kind=sc.ToolKind(kind),
        target_id=target_id,
        state=sc.ToolState(state),
        done=done,
        updated_at=AT,
    )
    envelope = Envelope(
        id=new_event_id(),
        type=model.TYPE,
        version=model.VERSION,
        occurred_at=AT,
        tenant_id=tenant_id,
        aggregate_id=tool_id,
        sequence=sequence,
        payload=event.model_dump(mode="json"),
    )
    return event, envelope


def envelope_dict(envelope: Envelope) -> dict[str, Any]:
    return envelope.model_dump(mode="json")


def publish(amqp_uri: str, envelope: Envelope, keys_dir: Path) -> None:
    """What spaces' relay publishes: the envelope on `spaces.events`, signed by spaces."""
    publish_event(amqp_uri, envelope, keys_dir)


def heard(db: Any, record_tool: Any, model: type[sc.ToolEvent], **fields: Any) -> None:
    """A service's `record_tool` handler applies the event in a unit of work of `db` (a fake
    database in unit tests), as its ToolCopies handler would on delivery."""
    event, envelope = tool_event(model, **fields)
    with db.unit_of_work() as uow:
        record_tool(uow, event, envelope)
