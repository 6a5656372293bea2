"""`ecoach-ops dlq` against a real RabbitMQ: list, show and replay a fake service's parked events.

Each run gets its own virtual host, with the topology of a service "toy" that handles
identity.tenant_created; messages are parked by publishing them to `toy.dead-letters` with the
headers the kernel's failure router sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu.connection import Connection

from ecoach_dev.broker import create_vhost, delete_vhost, ensure_broker
from ecoach_ops import dlq
from ecoach_ops.cli import main
from services.kernel.runtime.publisher import ConfirmingPublisher
from services.kernel.runtime.topology import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    QUEUE_HEADER,
    RETRY_LEVEL_HEADER,
    Subscription,
    dead_letter_exchange,
    dead_letter_queue,
    declare,
)

ROOT = Path(__file__).resolve().parents[2]
BASE_URI = os.environ.get("ECOACH_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
SERVICE = "toy"
SUBSCRIPTION = Subscription(SERVICE, "identity.tenant_created", "on_created")
HANDLER_QUEUE = SUBSCRIPTION.queue
DLQ = dead_letter_queue(SERVICE)
FAILURE_HEADERS = {ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, RETRY_LEVEL_HEADER}


@pytest.fixture(scope="module")
def uri() -> Iterator[str]:
    ensure_broker(BASE_URI, management=True)
    vhost = f"ecoach-ops-test-{uuid.uuid4().hex[:10]}"
    vhost_uri = create_vhost(BASE_URI, vhost)
    try:
        declare(
            vhost_uri,
            SERVICE,
            [SUBSCRIPTION],
            retries=1,
            retry_base_seconds=0.2,
            queue_max_length=1000,
            publishes=False,
        )
        yield vhost_uri
    finally:
        delete_vhost(BASE_URI, vhost)


def envelope(event_id: str, aggregate_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "identity.tenant_created",
        "version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "tenant_id": aggregate_id,
        "aggregate_id": aggregate_id,
        "sequence": 1,
        "payload": {"tenant_id": aggregate_id, "slug": "acme"},
    }


def park(
    uri: str,
    body: bytes,
    *,
    message_id: str | None,
    queue: str = HANDLER_QUEUE,
    attempt: int = 2,
    error: str = "RuntimeError: boom",
    extra: dict[str, Any] | None = None,
) -> None:
    """Park a message as the kernel's failure router does."""
    headers = {
        "nameko.request_id": f"req-{message_id}",
        ATTEMPT_HEADER: attempt,
        QUEUE_HEADER: queue,
        ERROR_HEADER: error,
        FAILED_AT_HEADER: "2026-01-02T03:04:05+00:00",
        **(extra or {}),
    }
    publisher = ConfirmingPublisher(uri)
    try:
        publisher.publish(
            dead_letter_exchange(SERVICE),
            queue,
            body,
            headers=headers,
            message_id=message_id,
            exchange_type="fanout",
        )
    finally:
        publisher.close()


def depth(uri: str, queue: str) -> int:
    with Connection(uri) as conn:
        channel = conn.channel()
        try:
            return int(channel.queue_declare(queue, passive=True).message_count)
        finally:
            channel.close()


def drain(uri: str, queue: str) -> list[Any]:
    """Consume (ack) every message of `queue`; the raw amqp messages, head first."""
    taken = []
    with Connection(uri) as conn:
        channel = conn.channel()
        channel.auto_decode = False
        try:
            while (message := channel.basic_get(queue, no_ack=False)) is not None:
                channel.basic_ack(message.delivery_tag)
                taken.append(message)
        finally:
            channel.close()
    return taken


BODY_A = json.dumps(envelope("evt_a", "tnt_a")).encode()
BODY_B = json.dumps(envelope("evt_b", "tnt_b")).encode()
UNREADABLE = b"not json at all"


@pytest.fixture
def parked(uri: str) -> str:
    """Three parked messages in order: evt_a, evt_b (with a long error and a retry level), and
    an unreadable body without message id."""
    drain(uri, DLQ)
    drain(uri, HANDLER_QUEUE)
    park(uri, BODY_A, message_id="evt_a")
    park(
        uri,
        BODY_B,
        message_id="evt_b",
        attempt=3,
        error="ValueError: " + "x" * 200,
        extra={RETRY_LEVEL_HEADER: 1},
    )
    park(uri, UNREADABLE, message_id=None, attempt=1, error="PoisonEvent: unreadable")
    assert depth(uri, DLQ) == 3
    return uri


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- list


def test_list_shows_every_parked_message_and_leaves_them_in_order(parked: str) -> None:
    for _ in range(2):  # looking twice sees the same thing: nothing was consumed or reordered
        messages = dlq.browse(parked, SERVICE)
        assert [m.event_id for m in messages] == ["evt_a", "evt_b", ""]
        assert [m.position for m in messages] == [1, 2, 3]
        first = messages[0]
        assert first.event_type == "identity.tenant_created"
        assert first.aggregate_id == "tnt_a"
        assert first.queue == HANDLER_QUEUE
        assert first.attempts == 2
        assert first.failed_at == "2026-01-02T03:04:05+00:00"
        assert first.error == "RuntimeError: boom"
        unreadable = messages[2]
        assert unreadable.envelope is None
        assert unreadable.event_type is None
        assert unreadable.body == UNREADABLE
        assert depth(parked, DLQ) == 3


def test_list_as_a_table_and_as_json(parked: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "dlq", "list", SERVICE, "--amqp-uri", parked)
    assert code == 0
    assert f"{DLQ}: 3 parked message(s)" in out
    assert "evt_a" in out and "tnt_b" in out and HANDLER_QUEUE in out
    assert "ValueError: xxx" in out and "x" * 100 not in out  # the error is truncated
    assert "not json" not in out  # bodies are not shown in the table

    code, out, _ = run(capsys, "dlq", "list", SERVICE, "--json", "--amqp-uri", parked)
    assert code == 0
    rows = json.loads(out)
    assert [r["event_id"] for r in rows] == ["evt_a", "evt_b", None]
    assert rows[1]["error"] == "ValueError: " + "x" * 200
    assert rows[1]["attempts"] == 3
    assert depth(parked, DLQ) == 3


def test_list_as_a_subprocess(parked: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecoach_ops", "dlq", "list", SERVICE, "--amqp-uri", parked],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "evt_a" in result.stdout and "evt_b" in result.stdout
    assert depth(parked, DLQ) == 3


def test_an_empty_dead_letter_queue(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    drain(uri, DLQ)
    code, out, _ = run(capsys, "dlq", "list", SERVICE, "--amqp-uri", uri)
    assert code == 0
    assert f"{DLQ} is empty." in out


# ---------------------------------------------------------------- show


def test_show_prints_every_header_and_the_body(
    parked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "dlq", "show", SERVICE, "evt_b", "--amqp-uri", parked)
    assert code == 0
    assert "position 2" in out
    assert "message_id: evt_b" in out
    assert f"{ATTEMPT_HEADER}: 3" in out
    assert f"{QUEUE_HEADER}: {HANDLER_QUEUE}" in out
    assert "ValueError: " + "x" * 200 in out  # in full
    assert "nameko.request_id: req-evt_b" in out
    assert '  "aggregate_id": "tnt_b",' in out  # pretty-printed
    assert "evt_a" not in out
    assert depth(parked, DLQ) == 3

    code, out, _ = run(capsys, "dlq", "show", SERVICE, "evt_a", "--json", "--amqp-uri", parked)
    assert code == 0
    [shown] = json.loads(out)
    assert shown["body"] == envelope("evt_a", "tnt_a")
    assert shown["headers"][ERROR_HEADER] == "RuntimeError: boom"


def test_show_of_an_unknown_event_exits_1(parked: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "dlq", "show", SERVICE, "evt_nope", "--amqp-uri", parked)
    assert code == 1
    assert "evt_nope" in err and DLQ in err
    assert out == ""
    assert depth(parked, DLQ) == 3


# ---------------------------------------------------------------- replay


def test_replay_of_one_event_moves_exactly_that_message(
    parked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "dlq", "replay", SERVICE, "evt_b", "--amqp-uri", parked)
    assert code == 0, out
    assert f"replayed evt_b (identity.tenant_created) -> {HANDLER_QUEUE}" in out
    assert "Replayed 1 of 1 message(s)" in out and "2 left" in out

    [replayed] = drain(parked, HANDLER_QUEUE)
    assert replayed.properties["message_id"] == "evt_b"
    assert replayed.body == BODY_B
    headers = dict(replayed.headers)
    assert not FAILURE_HEADERS & headers.keys()  # attempt count, error, retry level reset
    assert headers["nameko.request_id"] == "req-evt_b"
    assert headers[QUEUE_HEADER] == HANDLER_QUEUE

    # The others stay parked, in their order.
    assert [m.event_id for m in dlq.browse(parked, SERVICE)] == ["evt_a", ""]


def test_replay_all_empties_the_dead_letter_queue(
    parked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "dlq", "replay", SERVICE, "--all", "--amqp-uri", parked)
    assert code == 0, out
    assert "Replayed 3 of 3 message(s)" in out
    assert depth(parked, DLQ) == 0
    moved = drain(parked, HANDLER_QUEUE)
    assert [m.body for m in moved] == [BODY_A, BODY_B, UNREADABLE]

    code, out, _ = run(capsys, "dlq", "replay", SERVICE, "--all", "--amqp-uri", parked)
    assert code == 0
    assert "nothing to replay" in out


def test_replay_with_an_unknown_id_exits_1_after_replaying_the_known_ones(
    parked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "dlq", "replay", SERVICE, "evt_a", "evt_nope", "--amqp-uri", parked)
    assert code == 1
    assert "replayed evt_a" in out
    assert "not found: evt_nope" in out
    assert [m.properties["message_id"] for m in drain(parked, HANDLER_QUEUE)] == ["evt_a"]
    assert depth(parked, DLQ) == 2


def test_a_message_whose_handler_is_gone_stays_parked(
    parked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = "evt-identity-identity.tenant_created--toy.removed_handler"
    park(parked, json.dumps(envelope("evt_c", "tnt_c")).encode(), message_id="evt_c", queue=gone)
    code, out, _ = run(capsys, "dlq", "replay", SERVICE, "evt_c", "--amqp-uri", parked)
    assert code == 1
    assert "NOT replayed evt_c" in out and f"{gone} is not bound" in out
    assert [m.event_id for m in dlq.browse(parked, SERVICE)] == ["evt_a", "evt_b", "", "evt_c"]


# ---------------------------------------------------------------- a wrong service


@pytest.mark.parametrize(
    "command",
    [["list", "nosuch"], ["show", "nosuch", "evt_a"], ["replay", "nosuch", "--all"]],
)
def test_a_service_without_a_dead_letter_queue_exits_2(
    uri: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out, err = run(capsys, "dlq", *command, "--amqp-uri", uri)
    assert code == 2
    assert "nosuch has no dead-letter queue: is the service name right" in err
    assert out == ""
