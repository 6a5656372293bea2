"""Content's LRS client against a real (small, local) LRS over HTTP, under eventlet as in the
service: statements of an attempt arrive valid and once, failures are retried, refusals are not
(tests/support/lrs.py; ADR 0016)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.content.adapters.lrs import LrsClient, LrsRejected, LrsUnavailable, Retry
from services.content.domain import xapi
from tests.support.lrs import LocalLrs

FAST = Retry(attempts=3, first_delay=0.01, max_delay=0.05)
AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


@pytest.fixture
def lrs() -> Iterator[LocalLrs]:
    with LocalLrs() as server:
        yield server


def attempt_statements(attempt_id: str = "prg_0123456789abcdef01234567") -> list[dict[str, object]]:
    deployment = xapi.Deployment("http://127.0.0.1:8080")
    attempt = xapi.Attempt(attempt_id, xapi.new_pseudonym(), "mod_feedback", 1, "en", "Feedback")
    return [
        xapi.lesson_experienced(
            deployment,
            attempt,
            "les_1",
            key=f"{attempt_id}-1",
            at=AT,
            time_spent=timedelta(minutes=1),
        ).to_json(),
        xapi.prompt_answered(
            deployment, attempt, "les_1", "blk_1", "reflection", key=f"{attempt_id}-2", at=AT
        ).to_json(),
        xapi.module_completed(deployment, attempt, key=f"{attempt_id}-3", at=AT).to_json(),
    ]


def test_the_statements_of_an_attempt_reach_the_lrs(lrs: LocalLrs) -> None:
    sent = attempt_statements()
    with LrsClient(lrs.settings(), retry=FAST, batch_size=2) as client:
        ids = client.send(sent)
    assert ids == [s["id"] for s in sent]
    assert lrs.stored() == sent
    assert lrs.refusals == []
    registration = str(xapi.registration_of("prg_0123456789abcdef01234567"))
    found = httpx.get(f"{lrs.endpoint}statements", params={"registration": registration}).json()
    assert found["statements"] == sent


def test_statements_sent_again_are_stored_once(lrs: LocalLrs) -> None:
    sent = attempt_statements()
    with LrsClient(lrs.settings(), retry=FAST) as client:
        client.send(sent)
        client.send(sent)
    assert lrs.stored() == sent
    assert lrs.posts == 2


def test_an_lrs_that_fails_for_a_while_gets_the_statements_after_retries(lrs: LocalLrs) -> None:
    lrs.fail_next(2, status=503)
    with LrsClient(lrs.settings(), retry=FAST) as client:
        client.send(attempt_statements())
    assert lrs.posts == 3
    assert len(lrs.stored()) == 3


def test_an_lrs_that_keeps_failing_is_reported_unavailable(lrs: LocalLrs) -> None:
    lrs.fail_next(5, status=500)
    with LrsClient(lrs.settings(), retry=FAST) as client, pytest.raises(LrsUnavailable):
        client.send(attempt_statements())
    assert lrs.posts == 3
    assert lrs.stored() == []


def test_a_wrong_secret_is_refused_once_and_stores_nothing(lrs: LocalLrs) -> None:
    with (
        LrsClient(lrs.settings(secret="not-the-secret"), retry=FAST) as client,
        pytest.raises(LrsRejected) as refused,
    ):
        client.send(attempt_statements())
    assert refused.value.status == 401
    assert lrs.posts == 1
    assert lrs.stored() == []


def test_the_local_lrs_refuses_what_is_not_xapi(lrs: LocalLrs) -> None:
    """The LRS of these tests does check: a statement that is not valid xAPI is refused."""
    [statement, *_] = attempt_statements()
    bad = {**statement, "timestamp": "yesterday"}
    with LrsClient(lrs.settings(), retry=FAST) as client, pytest.raises(LrsRejected) as refused:
        client.send([bad])
    assert refused.value.status == 400
    assert "timestamp" in lrs.refusals[0][1]


def test_an_unreachable_lrs_is_reported_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with LocalLrs() as lrs:
        settings = lrs.settings()
    unreachable = type(settings)(f"http://127.0.0.1:{port}/xapi/", settings.key, settings.secret)
    with LrsClient(unreachable, retry=FAST) as client, pytest.raises(LrsUnavailable) as error:
        client.send(attempt_statements())
    assert "could not be reached" in str(error.value)
