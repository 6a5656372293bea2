"""A learning record store client (xAPI 1.0.3): statements POSTed in batches (ADR 0016).

`LrsClient(settings).send(statements)` POSTs the statements (as `Statement.to_json()` gives
them) to `<endpoint>/statements`, in batches of at most `batch_size`, with HTTP Basic
authentication (the LRS's key and secret) and `X-Experience-API-Version: 1.0.3`, and returns the
ids the LRS stored. Every request has connect, read and write timeouts. A batch that meets a
connection error, a timeout, a 5xx or a 429 is sent again after a growing, jittered pause
(`Retry`), the same statements with the same ids (which the LRS stores once); after the last try
`LrsUnavailable` says so and the caller keeps the statements for later. A 4xx (a statement the
LRS refuses, wrong credentials) or a redirect is `LrsRejected` at once: sending it again would not
help, and following a redirect would hand the credentials to another address.

The endpoint is the operator's, so it is not put through the link checker's public-address
rule: an LRS on the operator's own network is normal. Its secret is write-only: the content
service keeps it sealed under a data key (as scheduling keeps a video provider's secret) and
gives it only to this client; `LrsSettings` never shows it (`repr`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.kernel.i18n import N_

from ..domain.xapi import XAPI_VERSION

VERSION_HEADER = "X-Experience-API-Version"
MAX_KEY = 200
MAX_SECRET = 500
MAX_ENDPOINT = 500


@dataclass(frozen=True)
class LrsSettings:
    """Where statements go. `endpoint` is the LRS's xAPI base (`https://lrs.example/xapi/`);
    `key` and `secret` its Basic credentials."""

    endpoint: str
    key: str
    secret: str = field(repr=False)

    @property
    def statements_url(self) -> str:
        return self.endpoint.rstrip("/") + "/statements"

    def problems(self, *, production: bool) -> dict[str, str]:
        """What is wrong, by field (empty when nothing): the service turns these into an
        INVALID_ARGUMENT naming each field. An http:// endpoint is for a local test LRS only."""
        found: dict[str, str] = {}
        parts = urlsplit(self.endpoint)
        schemes = ("https",) if production else ("https", "http")
        if len(self.endpoint) > MAX_ENDPOINT or parts.scheme not in schemes or not parts.hostname:
            found["endpoint"] = N_("an https:// URL of the LRS's xAPI endpoint")
        elif parts.query or parts.fragment or parts.username or parts.password:
            found["endpoint"] = N_("no query, fragment or credentials in the URL")
        if not self.key or len(self.key) > MAX_KEY or ":" in self.key:
            found["key"] = N_("the LRS's key (at most 200 characters, no colon)")
        if not self.secret or len(self.secret) > MAX_SECRET:
            found["secret"] = N_("the LRS's secret (at most 500 characters)")
        return found


class LrsError(Exception):
    """The statements were not stored. The message never holds the secret."""


class LrsUnavailable(LrsError):
    """The LRS could not be reached or kept failing (5xx, 429, timeouts): try again later."""


class LrsRejected(LrsError):
    """The LRS refused the statements (4xx) or redirected them: sending again will not help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Retry:
    """`attempts` tries in all; the pause before try n+1 is `first_delay * factor**(n-1)`, at
    most `max_delay`, times a random factor in [0.5, 1) so that instances do not retry in step."""

    attempts: int = 4
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 8.0

    def pauses(self) -> Iterator[float]:
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay) * (0.5 + random.random() / 2)
            delay *= self.factor


DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRIED_STATUSES = frozenset({429}) | frozenset(range(500, 600))


class LrsClient:
    def __init__(
        self,
        settings: LrsSettings,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: Retry = Retry(),
        batch_size: int = 50,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._settings = settings
        self._retry = retry
        self._batch_size = batch_size
        self._sleep = sleep
        self._client = httpx.Client(
            auth=httpx.BasicAuth(settings.key, settings.secret),
            headers={VERSION_HEADER: XAPI_VERSION, "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    def __enter__(self) -> LrsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def send(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        """POST the statements, batch after batch; the ids the LRS stored, in order. A batch
        that fails stops the sending: the batches before it are stored, it and the rest not."""
        stored: list[str] = []
        for start in range(0, len(statements), self._batch_size):
            stored += self._post(list(statements[start : start + self._batch_size]))
        return stored

    def _post(self, batch: list[Mapping[str, Any]]) -> list[str]:
        pauses = self._retry.pauses()
        while True:
            try:
                response = self._client.post(self._settings.statements_url, json=batch)
            except httpx.TransportError as error:  # connection refused or reset, timeouts
                problem = f"the LRS could not be reached ({type(error).__name__})"
            else:
                if response.status_code in RETRIED_STATUSES:
                    problem = f"the LRS answered {response.status_code}"
                else:
                    return self._stored_ids(response, batch)
            pause = next(pauses, None)
            if pause is None:
                raise LrsUnavailable(f"{problem}, after {self._retry.attempts} tries")
            self._sleep(pause)

    @staticmethod
    def _stored_ids(response: httpx.Response, batch: list[Mapping[str, Any]]) -> list[str]:
        status = response.status_code
        if status in (200, 204):
            try:
                ids = response.json() if status == 200 else None
            except ValueError:
                ids = None
            if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
                return ids
            # 204, or a body that is not the list of ids: the statements carry their own ids.
            return [str(s["id"]) for s in batch]
        if 300 <= status < 400:
            raise LrsRejected(f"the LRS redirected the statements ({status})", status)
        reason = {
            400: "refused the statements as malformed",
            401: "refused the key and secret",
            403: "refused the key and secret",
            409: "holds other statements with the same ids",
            413: "found the batch too large",
        }.get(status, "refused the statements")
        raise LrsRejected(f"the LRS {reason} ({status})", status)


# The push timer waits for each push before the next: a few tries with short pauses and a short
# connect timeout, so a push against an LRS that does not answer ends within a minute, and the
# statements wait for the next one.
PUSH_RETRY = Retry(attempts=3, first_delay=0.5, max_delay=2.0)
PUSH_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def push_client(settings: LrsSettings) -> LrsClient:
    """The client of the content service's push timer."""
    return LrsClient(settings, timeout=PUSH_TIMEOUT, retry=PUSH_RETRY)
