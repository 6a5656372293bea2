"""`ecoach-ops`: the operator's tool: the dead-letter queues of the event system, and
republishing a service's state for consumers that start late.

ecoach-ops dlq list <service> [--json]              what is parked, head first (nothing consumed)
ecoach-ops dlq show <service> <event-id>            one parked message: headers and body
ecoach-ops dlq replay <service> <event-id>... | --all
                                                    back to its handler queue, then off the DLQ
ecoach-ops republish <service> [--tenant TENANT_ID] a snapshot event of each of its aggregates
ecoach-ops rebuild-reporting [--tenant TENANT_ID]   empty reporting's facts, then republish from
                                                    every service it listens to

Exit codes: 0 done; 1 an event id not found, a message not replayed, or a republish refused or
not finished; 2 wrong usage, no such dead-letter queue, or the broker cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from services.kernel.logs import scrub
from services.kernel.registry import SERVICE_NAMES
from services.kernel.runtime.topology import dead_letter_queue, redeliver_exchange

from . import dlq

OK, NOT_DONE, SETUP_ERROR = 0, 1, 2
ERROR_WIDTH = 60  # characters of the error shown in `list`'s table
REPUBLISH_TIMEOUT = 900  # seconds: 100 000 aggregates are 200 batches

# The services whose events reporting keeps, in the order a rebuild republishes them: members
# first, so each coachee's cohort is known early (any order converges: facts are joined when a
# report is read). tests/unit/test_ops_republish.py checks it against reporting's handlers.
REPORTING_SOURCES = ("identity", "spaces", "scheduling", "assessment", "content")

SAFE_TO_REPEAT = (
    "Replaying an event the handler already applied is harmless: each handler records the ids "
    "of the events it applied in its inbox (for ECOACH_INBOX_RETENTION_DAYS) and skips one it "
    "has seen. Replaying twice, or replaying after a crash of this tool, is therefore safe."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecoach-ops",
        description="Operator's tool of ecoach.",
        epilog="Exit codes: 0 done; 1 not found or not replayed; 2 usage or setup error.",
    )
    tools = parser.add_subparsers(dest="tool", required=True, metavar="TOOL")

    broker = argparse.ArgumentParser(add_help=False)
    broker.add_argument(
        "--amqp-uri",
        metavar="URI",
        help="the RabbitMQ to use (default: ECOACH_AMQP_URI, else amqp://guest:guest@127.0.0.1:5672/)",
    )

    dlq_parser = tools.add_parser(
        "dlq",
        help="the dead-letter queues of the event system",
        description=(
            "Each service that handles events has a dead-letter queue, <service>.dead-letters. "
            "A message lands there when one of the service's handlers failed on it "
            "ECOACH_HANDLER_RETRIES more times after the first delivery, or when it could not "
            "be read at all. Look with `list` and `show`, fix the cause, then `replay`."
        ),
    )
    commands = dlq_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser(
        "list",
        parents=[broker],
        help="every parked message of a service, head first; nothing is consumed",
        description=(
            "Every message parked in <service>.dead-letters, head first: event id, type, "
            "aggregate, handler queue, attempts, when and why it failed. The messages are "
            "fetched without being acknowledged and handed back, so they stay in place and "
            "in order."
        ),
    )
    listing.add_argument("service", help="the service's name, e.g. identity")
    listing.add_argument("--json", action="store_true", help="one JSON array, errors in full")
    listing.add_argument(
        "--limit", type=_positive, metavar="N", help="only the first N messages (default: all)"
    )

    show = commands.add_parser(
        "show",
        parents=[broker],
        help="one parked message: every header and the body",
        description=(
            "Every property and header of the parked message(s) of one event, and the body "
            "pretty-printed. An event parked more than once (several handlers failed on it) "
            "shows each copy."
        ),
    )
    show.add_argument("service", help="the service's name, e.g. identity")
    show.add_argument("event_id", metavar="event-id", help="the event id (the message id)")
    show.add_argument("--json", action="store_true", help="as JSON")

    again = commands.add_parser(
        "replay",
        parents=[broker],
        help="send parked messages back to their handler queue",
        description=(
            "Send each chosen message back to the handler queue it failed in (its ecoach-queue "
            "header) through <service>.redeliver, with the same body and message id and its "
            "failure headers (attempt, error, failed-at, retry level) removed, so the handler "
            "gets its full retries again. A message leaves the dead-letter queue only after the "
            "broker confirmed its copy; one that could not be sent stays parked. Messages not "
            "chosen stay in place. " + SAFE_TO_REPEAT
        ),
    )
    again.add_argument("service", help="the service's name, e.g. identity")
    chosen = again.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "event_ids", nargs="*", default=[], metavar="event-id", help="the events to replay"
    )
    chosen.add_argument("--all", action="store_true", help="replay every parked message")

    # What `republish` and `rebuild-reporting` take besides the broker.
    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument(
        "--tenant", metavar="TENANT_ID", help="only this tenant's state (default: every tenant)"
    )
    scope.add_argument(
        "--timeout",
        type=_positive,
        default=REPUBLISH_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for each service (default: {REPUBLISH_TIMEOUT})",
    )

    again_state = tools.add_parser(
        "republish",
        parents=[broker, scope],
        help="record a snapshot event of each of a service's aggregates, for a late consumer",
        description=(
            "Ask a service to record, through its outbox, one snapshot event of the current "
            "state of each of its aggregates (scheduling.session_snapshot, ...), in batches, "
            "each with the aggregate's next sequence. Only reporting, which keeps facts and "
            "acts on nothing, subscribes to snapshots: nothing is mailed or unlocked again. "
            "For a consumer that starts late or is rebuilt from scratch "
            "(docs/operations/republish.md). Prints how many events of each type were "
            "recorded. Signs its call with <keys>/ops.key. Running it again is "
            "harmless: a consumer keeps the newest sequence of each aggregate."
        ),
    )
    again_state.add_argument("service", choices=SERVICE_NAMES, help="the service's name")
    tools.add_parser(
        "rebuild-reporting",
        parents=[broker, scope],
        help="empty reporting's facts, then republish the state of every service it listens to",
        description=(
            "Rebuild the reporting service's facts from scratch: empty its fact tables (of one "
            "tenant with --tenant, else of every tenant), then ask "
            + ", ".join(REPORTING_SOURCES)
            + " to republish the state of their aggregates. Reports are incomplete until "
            "reporting has applied the snapshots (watch its queues drain). Events in flight "
            "when the facts are emptied carry older sequences than the snapshots that follow, "
            "so the facts converge to the current state (docs/operations/republish.md). "
            "Prints how many facts were deleted and how many snapshots each service recorded. "
            "Running it again is harmless."
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tool == "republish":
        return _republish(args.amqp_uri or _default_amqp_uri(), args.service, args.tenant, args)
    if args.tool == "rebuild-reporting":
        return _rebuild_reporting(args.amqp_uri or _default_amqp_uri(), args.tenant, args)
    if args.command == "replay" and not args.all and not args.event_ids:
        parser.error("replay needs event ids or --all")
    amqp_uri = args.amqp_uri or _default_amqp_uri()
    try:
        if args.command == "list":
            return _list(amqp_uri, args.service, as_json=args.json, limit=args.limit)
        if args.command == "show":
            return _show(amqp_uri, args.service, args.event_id, as_json=args.json)
        return _replay(amqp_uri, args.service, None if args.all else args.event_ids)
    except dlq.DlqError as exc:
        _err(f"ecoach-ops: {exc}")
        return SETUP_ERROR


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _default_amqp_uri() -> str:
    from services.kernel.config import settings

    return settings().amqp_uri


# ---------------------------------------------------------------- commands


def _list(amqp_uri: str, service: str, *, as_json: bool, limit: int | None) -> int:
    messages = dlq.browse(amqp_uri, service, limit=limit)
    if as_json:
        _out(json.dumps([m.summary() for m in messages], indent=2, default=str))
        return OK
    queue = dead_letter_queue(service)
    if not messages:
        _out(f"{queue} is empty.")
        return OK
    shown = "first " if limit is not None and len(messages) == limit else ""
    _out(f"{queue}: {shown}{len(messages)} parked message(s), head first")
    rows = [
        [
            str(m.position),
            m.event_id or "-",
            m.event_type or "-",
            m.aggregate_id or "-",
            m.queue or "-",
            "-" if m.attempts is None else str(m.attempts),
            m.failed_at or "-",
            _truncate(m.error or "-", ERROR_WIDTH),
        ]
        for m in messages
    ]
    header = ["#", "EVENT ID", "TYPE", "AGGREGATE", "HANDLER QUEUE", "ATTEMPTS", "FAILED AT"]
    _out(_table([[*header, "ERROR"], *rows]))
    return OK


def _show(amqp_uri: str, service: str, event_id: str, *, as_json: bool) -> int:
    queue = dead_letter_queue(service)
    matches = dlq.find(amqp_uri, service, event_id)
    if not matches:
        _err(f"ecoach-ops: no message of event {event_id} in {queue}")
        return NOT_DONE
    if as_json:
        _out(
            json.dumps(
                [
                    {
                        "position": m.position,
                        "properties": m.properties,
                        "headers": m.headers,
                        "body": m.envelope
                        if m.envelope is not None
                        else m.body.decode("utf-8", "replace"),
                    }
                    for m in matches
                ],
                indent=2,
                default=str,
            )
        )
        return OK
    if len(matches) > 1:
        _out(
            f"Event {event_id} is parked {len(matches)} times in {queue} (one copy per failed "
            "handler or per failed replay).\n"
        )
    for i, message in enumerate(matches):
        if i:
            _out("")
        _out(f"Event {event_id}, position {message.position} in {queue}")
        _out("Properties:")
        for key, value in sorted(message.properties.items()):
            _out(f"  {key}: {_value(value)}")
        _out("Headers:")
        if not message.headers:
            _out("  (none)")
        for key, value in sorted(message.headers.items()):
            _out(f"  {key}: {_value(value)}")
        _out("Body:" if message.envelope is not None else "Body (not a JSON object):")
        _out(_body(message.body))
    return OK


def _replay(amqp_uri: str, service: str, event_ids: list[str] | None) -> int:
    queue = dead_letter_queue(service)

    def progress(message: dlq.ParkedMessage, problem: str | None) -> None:
        what = f"{message.event_id or '(no id)'} ({message.event_type or 'unknown type'})"
        if problem is None:
            _out(f"replayed {what} -> {message.queue}")
        else:
            _out(f"NOT replayed {what}, left parked: {problem}")

    report = dlq.replay(amqp_uri, service, event_ids, on_result=progress)
    for missing in report.not_found:
        _out(f"not found: {missing} is not in {queue}")
    chosen = len(report.replayed) + len(report.failed)
    if event_ids is None and chosen == 0:
        _out(f"{queue} is empty: nothing to replay.")
        return OK
    summary = f"Replayed {len(report.replayed)} of {chosen} message(s) through " + (
        f"{redeliver_exchange(service)}; {report.remaining} left in {queue}"
    )
    if report.failed:
        summary += f"; {len(report.failed)} could not be replayed"
    if report.not_found:
        summary += f"; {len(report.not_found)} event id(s) not found"
    _out(summary + ".")
    return OK if report.ok else NOT_DONE


def _republish(amqp_uri: str, service: str, tenant_id: str | None, args: Any) -> int:
    from . import republish

    where = f"tenant {tenant_id}" if tenant_id else "every tenant"
    _out(f"Asking {service} to republish the state of {where}...")
    try:
        _republish_one(amqp_uri, service, tenant_id, float(args.timeout))
    except republish.RepublishError as exc:
        return _not_done(exc)
    return OK


def _republish_one(amqp_uri: str, service: str, tenant_id: str | None, timeout: float) -> int:
    """Ask one service, print what it recorded; how many snapshots."""
    from . import republish

    keys, clock = _keys_and_clock()
    report = republish.republish(amqp_uri, keys, clock, service, tenant_id, timeout=timeout)
    for event_type, count in sorted(report.recorded.items()):
        _out(f"  {event_type}: {count}")
    total = sum(report.recorded.values())
    _out(f"Recorded {total} snapshot event(s) in {service}'s outbox; its relay publishes them.")
    return total


def _rebuild_reporting(amqp_uri: str, tenant_id: str | None, args: Any) -> int:
    from . import republish

    where = f"tenant {tenant_id}" if tenant_id else "every tenant"
    timeout = float(args.timeout)
    keys, clock = _keys_and_clock()
    try:
        _out(f"Emptying reporting's facts of {where}...")
        reset = republish.reset_reporting(amqp_uri, keys, clock, tenant_id, timeout=timeout)
        for table, count in sorted(reset.deleted.items()):
            _out(f"  {table}: {count}")
        _out(f"Deleted {sum(reset.deleted.values())} fact(s).")
        total = 0
        for service in REPORTING_SOURCES:
            _out(f"Asking {service} to republish the state of {where}...")
            total += _republish_one(amqp_uri, service, tenant_id, timeout)
    except republish.RepublishError as exc:
        return _not_done(exc)
    _out(
        f"Recorded {total} snapshot event(s) in all; reporting's facts are complete once it has "
        "applied them (its queues drained)."
    )
    return OK


def _keys_and_clock() -> tuple[Any, Any]:
    from services.kernel.clock import clock_for
    from services.kernel.config import settings

    config = settings()
    return config.keys_path, clock_for(config.env, config.test_clock_path)


def _not_done(exc: Exception) -> int:
    _err(f"ecoach-ops: {exc}")
    _err(
        "Batches recorded before a failure stay recorded; running the command again is "
        "harmless (consumers keep each aggregate's newest sequence)."
    )
    return NOT_DONE


# ---------------------------------------------------------------- output


def _out(text: str, stream: TextIO | None = None) -> None:
    # Headers and bodies hold ids and facts only; masking anything token-shaped is a last line
    # of defence, as in the logs.
    print(scrub(text), file=stream or sys.stdout)


def _err(text: str) -> None:
    _out(text, sys.stderr)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _truncate(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _value(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _body(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False, default=str)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")
