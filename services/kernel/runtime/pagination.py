"""Keyset pagination, the one way every service pages a list: stable under inserts, no OFFSET.

Rows are ordered by (created_at, id); the page token is the last row's key, opaque to clients.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, and_, or_

from ..errors import invalid
from ..validation import date_problem

_ROW_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

T = TypeVar("T")


def encode_page_token(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[datetime, str] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, row_id = json.loads(raw)
        after = datetime.fromisoformat(created)
        # A forged token must not reach the database with what it cannot hold (NUL) or what
        # overflows (a date at the calendar's edge).
        if not isinstance(row_id, str) or not _ROW_ID.match(row_id) or date_problem(after):
            raise ValueError("not a token of ours")
        return after, row_id
    except (ValueError, TypeError):
        raise invalid(page_token="is not a token this list returned") from None  # noqa: S106


def keyset_page(
    connection: Connection,
    table: Table,
    query: Select[Any],
    size: int,
    token: str,
    to_domain: Callable[[Any], T],
    *,
    newest_first: bool = False,
    key: str = "created_at",
    weigh: Callable[[T], int] | None = None,
    max_weight: int = 0,
) -> tuple[list[T], str]:
    """One page of `query` (rows of `table`, with `created_at` and `id` columns), and the token
    of the next page ("" on the last). Oldest first, or `newest_first` (histories); ordered by
    another timestamp column with `key` (sessions by their start). With `weigh`, the page also
    ends early once its items weigh more than `max_weight` (at least one item per page): an
    answer of big items (notes, say) stays within what a client accepts."""
    created, row_id = table.c[key], table.c.id
    if newest_first:
        query = query.order_by(created.desc(), row_id.desc()).limit(size + 1)
    else:
        query = query.order_by(created, row_id).limit(size + 1)
    after = decode_page_token(token)
    if after and newest_first:
        query = query.where(or_(created < after[0], and_(created == after[0], row_id < after[1])))
    elif after:
        query = query.where(or_(created > after[0], and_(created == after[0], row_id > after[1])))
    rows = list(connection.execute(query))
    if weigh is not None:
        items: list[T] = []
        weight = 0
        for at, row in enumerate(rows[:size]):
            item = to_domain(row)
            weight += weigh(item)
            if items and weight > max_weight:
                last = rows[at - 1]
                return items, encode_page_token(getattr(last, key), last.id)
            items.append(item)
        if len(rows) <= size:
            return items, ""
        last = rows[size - 1]
        return items, encode_page_token(getattr(last, key), last.id)
    if len(rows) <= size:
        return [to_domain(r) for r in rows], ""
    last = rows[size - 1]
    return [to_domain(r) for r in rows[:size]], encode_page_token(getattr(last, key), last.id)
