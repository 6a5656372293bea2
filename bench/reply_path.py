"""A/B of two per-call costs a service pays on every RPC, in one process, interleaved: not part
of `make bench` (`python -m bench.reply_path [--calls 2000] [--rounds 6]`).

1. The reply: nameko's `Responder` (with the kernel's `ReplyPublisher`: no confirms,
   non-persistent), against the kernel's `FastResponder` (encoded once, one kept channel),
   publishing the same `GetMember` reply to a queue on a vhost of its own on the real broker.
   Reported: this process's CPU and wall time per reply, and RabbitMQ's CPU per reply (/proc).
2. The per-call log line: the kernel's JSON formatter on a record like the `rpc get_member` line:
   as it was (logging's caller, thread and process lookups on, every value through the five
   scrubbing patterns), with the lookups off (what `logs.configure` does now), and with the
   scrubbing shortcut too (`logs.scrub`: a value without any pattern's mark is left as it is).

The two variants alternate within each round, so that the machine's speed, which varies from
one minute to the next on a shared virtual machine, falls on both alike; medians over rounds.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kombu

from ecoach_dev import broker
from services.kernel import logs
from services.kernel.config import settings
from services.kernel.logs import JsonFormatter
from services.kernel.runtime import replies

from .benchkit import comm, cpu_of, speed_probe

REPLY = {
    "name": "tenants/t/members/m",
    "person_id": "p" * 22,
    "display_name": "Bench Admin",
    "email": "bench-admin@example.test",
    "roles": ["TENANT_ADMIN"],
    "status": "ACTIVE",
    "cohort": "",
    "locale": "en",
    "time_zone": "Europe/Paris",
    "create_time": "2026-12-07T01:00:00Z",
}


def broker_pids() -> list[int]:
    return [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and comm(p) == "beam.smp"
    ]


def timed(calls: int, one: Callable[[], None], pids: list[int]) -> dict[str, float]:
    broker_before = sum(cpu_of(p) for p in pids)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        one()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    broker_cpu = sum(cpu_of(p) for p in pids) - broker_before
    return {
        "cpu_us": cpu * 1e6 / calls,
        "wall_us": wall * 1e6 / calls,
        "broker_cpu_us": broker_cpu * 1e6 / calls,
    }


def replies_ab(amqp_uri: str, calls: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    queue_name = f"bench-replies-{secrets.token_hex(4)}"
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
    with kombu.Connection(amqp_uri) as connection:
        channel = connection.channel()
        exchange(channel).declare()
        queue = kombu.Queue(queue_name, exchange, routing_key=queue_name, auto_delete=False)
        queue(channel).declare()

        message = SimpleNamespace(
            properties={
                "content_type": "application/json",
                "reply_to": queue_name,
                "correlation_id": "c" * 32,
            }
        )

        class NamekoResponder(replies.FastResponder.__mro__[1]):  # type: ignore[misc,name-defined]
            publisher_cls = replies.ReplyPublisher

        variants: dict[str, Callable[[], None]] = {
            "nameko Responder (no confirms)": lambda: NamekoResponder(
                amqp_uri, exchange, "json", message
            ).send_response(REPLY, None),
            "FastResponder": lambda: replies.FastResponder(
                amqp_uri, exchange, "json", message
            ).send_response(REPLY, None),
        }
        pids = broker_pids()
        for one in variants.values():  # connections, pools, declarations
            for _ in range(50):
                one()
        found: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
        for round_no in range(rounds):
            names = list(variants)
            if round_no % 2:
                names.reverse()
            for name in names:
                found[name].append(timed(calls, variants[name], pids))
                queue(channel).purge()
        queue(channel).delete()
    return found


def logging_ab(calls: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    logger = logging.getLogger("bench.reply_path.rpc")
    logger.propagate = False
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter("identity"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    extra = {"method": "get_member", "outcome": "OK", "ms": 1.23}
    saved = (logging._srcfile, logging.logThreads, logging.logProcesses)  # type: ignore[attr-defined]

    shortcut = logs.scrub

    def set_variant(lookups: bool, scrub: Callable[[str], str]) -> None:
        logging._srcfile = saved[0] if lookups else None  # type: ignore[attr-defined]
        logging.logThreads = logging.logProcesses = lookups
        logs.scrub = scrub  # type: ignore[assignment]

    variants = {
        "before": (True, logs.scrub_all),
        "lookups off": (False, logs.scrub_all),
        "lookups off, scrub shortcut": (False, shortcut),
    }

    def one() -> None:
        logger.info("rpc %s", "get_member", extra=extra)
        stream = handler.stream
        stream.seek(0)
        stream.truncate()

    found: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    try:
        for round_no in range(rounds):
            names = list(variants)
            if round_no % 2:
                names.reverse()
            for name in names:
                set_variant(*variants[name])
                found[name].append(timed(calls, one, []))
    finally:
        logging._srcfile, logging.logThreads, logging.logProcesses = saved  # type: ignore[attr-defined]
        logs.scrub = shortcut  # type: ignore[assignment]
    return found


def medians(rows: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        name: {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}
        for name, runs in rows.items()
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reply_path", description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    env = settings()
    broker.ensure_broker(env.amqp_uri, management=True)
    vhost = f"ecoach-bench-{secrets.token_hex(4)}"
    uri = broker.create_vhost(env.amqp_uri, vhost)
    try:
        probe = speed_probe()
        report: dict[str, Any] = {
            "speed_probe_ms": probe,
            "replies": medians(replies_ab(uri, args.calls, args.rounds)),
            "log_line": medians(logging_ab(args.calls * 5, args.rounds)),
            "speed_probe_ms_after": speed_probe(),
            "calls": args.calls,
            "rounds": args.rounds,
        }
    finally:
        broker.delete_vhost(env.amqp_uri, vhost)
    print(json.dumps(report, indent=2))
    out = (
        env.var_dir / "bench" / f"reply_path-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"bench: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
