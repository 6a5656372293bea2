"""The kernel's queue consumer keeps its broker connection under traffic that never pauses."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import kombu

from services.kernel.consumer import consume_forever
from tests.support.waiting import wait_for


def test_a_queue_that_never_stays_empty_still_sends_heartbeats(
    rabbit_config: dict[str, Any],
) -> None:
    # The gateway's reply queue under steady traffic: a message every 0.1 s, so draining never
    # times out. With a 2 s heartbeat the broker closes a connection that sends none within two
    # intervals; the run lasts twice that.
    uri = rabbit_config["AMQP_URI"]
    name = f"test-consumer-{uuid.uuid4().hex}"
    queue = kombu.Queue(name, exclusive=True, auto_delete=True)
    received: list[int] = []
    lost: list[float] = []
    ready, stopping = threading.Event(), threading.Event()
    consumer = threading.Thread(
        target=consume_forever,
        args=(uri, queue, lambda body, message: received.append(body["n"])),
        kwargs={
            "ready": ready,
            "stopping": stopping,
            "what": "test consumer",
            "on_lost": lambda: lost.append(time.monotonic()),
            "heartbeat": 2.0,
        },
        daemon=True,
    )
    consumer.start()
    assert ready.wait(10)
    sent = 0
    with kombu.Connection(uri) as conn:
        producer = conn.Producer(serializer="json")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            producer.publish({"n": sent}, routing_key=name)
            sent += 1
            time.sleep(0.1)  # a steady trickle for 8 s, past two heartbeat intervals
    wait_for(lambda: len(received) >= sent, 10, "every message")
    stopping.set()
    consumer.join(5)
    assert lost == []
    assert received == list(range(sent))
