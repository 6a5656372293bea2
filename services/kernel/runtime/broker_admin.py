"""RabbitMQ's management API, for what AMQP cannot do: policies, listing queues, virtual hosts.

The migration step uses it (queue length policy, removing the queues of deleted handlers), and so
do the operator's tool and the test deployments. It answers on port 15672 of the broker's host
(`ECOACH_BROKER_MANAGEMENT_PORT` names another: the fault tests' broker of their own, beside the
machine's) with the AMQP URI's credentials (`rabbitmq-plugins enable rabbitmq_management`).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MANAGEMENT_PORT = 15672
MANAGEMENT_PORT_ENV = "ECOACH_BROKER_MANAGEMENT_PORT"


def management_url(amqp_uri: str) -> tuple[str, str, str]:
    """(base URL of the management API, user, password) for the broker of `amqp_uri`."""
    parts = urlsplit(amqp_uri)
    host = parts.hostname or "localhost"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    user = unquote(parts.username) if parts.username else "guest"
    password = unquote(parts.password) if parts.password is not None else "guest"
    port = int(os.environ.get(MANAGEMENT_PORT_ENV) or MANAGEMENT_PORT)
    return f"http://{host}:{port}", user, password


def redacted(amqp_uri: str) -> str:
    """A URI without its password, for messages and reports."""
    parts = urlsplit(amqp_uri)
    if parts.password is None:
        return amqp_uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def vhost_of(amqp_uri: str) -> str:
    """The virtual host an AMQP URI names ('/' when its path is empty)."""
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def management_request(
    amqp_uri: str, method: str, path: str, body: Any = None, timeout: float = 10.0
) -> Any:
    """One call of the management API; its JSON answer (None when it has no body)."""
    base, user, password = management_url(amqp_uri)
    request = urllib.request.Request(  # noqa: S310 - our own broker's management API
        f"{base}/api/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "content-type": "application/json",
            "authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        raw = response.read()
    return json.loads(raw) if raw else None


def queue_names(amqp_uri: str) -> list[str]:
    """Every queue of the URI's virtual host."""
    vhost = quote(vhost_of(amqp_uri), safe="")
    rows = management_request(amqp_uri, "GET", f"queues/{vhost}?columns=name")
    return [row["name"] for row in rows or ()]


def set_policy(amqp_uri: str, name: str, pattern: str, definition: dict[str, Any]) -> None:
    vhost = quote(vhost_of(amqp_uri), safe="")
    management_request(
        amqp_uri,
        "PUT",
        f"policies/{vhost}/{quote(name, safe='')}",
        {"pattern": pattern, "definition": definition, "apply-to": "queues", "priority": 0},
    )


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, urllib.error.HTTPError) and exc.code == 404


def put_user(amqp_uri: str, user: str, password: str) -> None:
    """Create `user` (or set its password), with no tags: it cannot use the management API."""
    management_request(
        amqp_uri, "PUT", f"users/{quote(user, safe='')}", {"password": password, "tags": ""}
    )


def delete_user(amqp_uri: str, user: str) -> None:
    try:
        management_request(amqp_uri, "DELETE", f"users/{quote(user, safe='')}")
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise


def set_permissions(
    amqp_uri: str,
    user: str,
    *,
    configure: str,
    write: str,
    read: str,
    topics: dict[str, tuple[str, str]],
) -> None:
    """`user`'s permissions in the URI's virtual host: the three regexes, and per topic
    exchange the (write, read) regexes of routing and binding keys; any other topic permission
    of the user there is removed."""
    vhost = quote(vhost_of(amqp_uri), safe="")
    who = quote(user, safe="")
    management_request(
        amqp_uri,
        "PUT",
        f"permissions/{vhost}/{who}",
        {"configure": configure, "write": write, "read": read},
    )
    try:
        existing = management_request(amqp_uri, "GET", f"users/{who}/topic-permissions") or []
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        existing = []
    if any(
        row["vhost"] == vhost_of(amqp_uri) and row["exchange"] not in topics for row in existing
    ):
        # The API removes a user's topic permissions of a vhost all at once.
        management_request(amqp_uri, "DELETE", f"topic-permissions/{vhost}/{who}")
    for exchange, (write_keys, read_keys) in topics.items():
        management_request(
            amqp_uri,
            "PUT",
            f"topic-permissions/{vhost}/{who}",
            {"exchange": exchange, "write": write_keys, "read": read_keys},
        )
