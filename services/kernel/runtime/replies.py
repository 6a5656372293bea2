"""RPC replies without publisher confirms, non-persistent (a nameko default we replace).

nameko publishes every RPC reply to a durable exchange with publisher confirms and persistent
delivery, so each reply waits for the broker's confirm before the worker ends. A reply matters
only to a caller that is waiting for it on an auto-delete queue: if the broker loses it, that
caller times out exactly as if the service had been slow, and a confirm would not bring it back.
Measured on GetMember, see `make bench`.
"""

from __future__ import annotations

from nameko import rpc
from nameko.amqp.publish import Publisher

NON_PERSISTENT = 1


class ReplyPublisher(Publisher):  # type: ignore[misc]
    use_confirms = False
    delivery_mode = NON_PERSISTENT


def use_fast_replies() -> None:
    rpc.Responder.publisher_cls = ReplyPublisher
