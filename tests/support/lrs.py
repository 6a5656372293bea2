"""A small local learning record store for the tests, and the xAPI schema check it applies.

`statement_errors(statement)` checks one statement against the vendored xAPI 1.0.x JSON schema
(docs/schemas/xapi/, Rustici's TinCanSchema, Apache-2.0) with its string formats registered.

`LocalLrs` is an HTTP server on 127.0.0.1 (a free port) speaking the part of the xAPI that the
content service uses: `POST <endpoint>statements` (one statement or a list) checks the
`X-Experience-API-Version` header (1.0.x), the Basic credentials and every statement against the
schema, stores them (a statement sent again with the same id and content is stored once; with
other content, 409) and answers 200 with their ids; `GET <endpoint>statements?registration=<uuid>`
gives `{"statements": [...], "more": ""}`. `fail_next(n)` makes the next n POSTs answer 503 (or
the status given) first, so retries can be tested.

    with LocalLrs() as lrs:
        LrsClient(lrs.settings()).send(statements)
        assert lrs.stored() == ...
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft4Validator, FormatChecker

from services.content.adapters.lrs import LrsSettings
from tests.support.loopback import LoopbackServer

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "xapi"


@functools.cache
def _validator() -> Draft4Validator:
    parts = json.loads((SCHEMA_DIR / "tcapi-1.0.1.schema.json").read_text())
    formats = json.loads((SCHEMA_DIR / "formats.json").read_text())
    checker = FormatChecker(formats=())
    for name, pattern in formats.items():
        compiled = re.compile(pattern)
        checker.checks(name)(
            lambda value, rx=compiled: not isinstance(value, str) or rx.search(value) is not None
        )
    return Draft4Validator({**parts, "$ref": "#statement"}, format_checker=checker)


def statement_errors(statement: Mapping[str, Any]) -> list[str]:
    """Why the statement is not valid xAPI (empty when it is)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(statement)'}: {e.message}"
        for e in _validator().iter_errors(dict(statement))
    ]


class LocalLrs(LoopbackServer):
    def __init__(self, key: str = "lrs-key", secret: str = "lrs-secret-for-tests") -> None:  # noqa: S107
        self.key = key
        self.secret = secret
        self._lock = threading.Lock()
        self._statements: dict[str, dict[str, Any]] = {}
        self._failures: list[int] = []
        self.posts = 0  # every POST received, failed ones included
        self.refusals: list[tuple[int, str]] = []
        super().__init__(self._handler())

    # ------------------------------------------------------------------ the test's side

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/xapi/"

    def settings(self, secret: str | None = None) -> LrsSettings:
        return LrsSettings(self.endpoint, self.key, self.secret if secret is None else secret)

    def fail_next(self, times: int, status: int = 503) -> None:
        with self._lock:
            self._failures += [status] * times

    def stored(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._statements.values())

    # ---------------------------------------------------------------------- the LRS side

    def _refuse(self, status: int, why: str) -> tuple[int, Any]:
        self.refusals.append((status, why))
        return status, {"error": why}

    def _post(self, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.posts += 1
            if self._failures:
                return self._refuse(self._failures.pop(0), "told to fail")
            if not headers.get("X-Experience-API-Version", "").startswith("1.0."):
                return self._refuse(400, "X-Experience-API-Version 1.0.x is required")
            expected = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
            if headers.get("Authorization") != f"Basic {expected}":
                return self._refuse(401, "wrong credentials")
            try:
                sent = json.loads(body)
            except ValueError:
                return self._refuse(400, "not JSON")
            batch = sent if isinstance(sent, list) else [sent]
            for statement in batch:
                if not isinstance(statement, dict) or "id" not in statement:
                    return self._refuse(400, "a statement without an id")
                errors = statement_errors(statement)
                if errors:
                    return self._refuse(400, "; ".join(errors))
                kept = self._statements.get(statement["id"])
                if kept is not None and kept != statement:
                    return self._refuse(409, f"another statement has id {statement['id']}")
            for statement in batch:
                self._statements[statement["id"]] = statement
            return 200, [s["id"] for s in batch]

    def _get(self, query: str) -> tuple[int, Any]:
        wanted = parse_qs(query).get("registration", [None])[0]
        with self._lock:
            found = [
                s
                for s in self._statements.values()
                if wanted is None or s.get("context", {}).get("registration") == wanted
            ]
        return 200, {"statements": found, "more": ""}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Experience-API-Version", "1.0.3")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if urlsplit(self.path).path != "/xapi/statements":
                    self._answer(404, {"error": "no such resource"})
                    return
                self._answer(*lrs._post(dict(self.headers.items()), body))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/xapi/statements":
                    self._answer(404, {"error": "no such resource"})
                    return
                self._answer(*lrs._get(parts.query))

            def log_message(self, *_: object) -> None:
                pass

        return Handler
