"""Reading a CSV file people upload (a roster, a list of spaces), and writing one people
download (a report: `write_rows`): plain Python.

UTF-8 with or without a byte-order mark; `,` or `;` between fields (read from the header line);
CRLF or LF. The header names the columns in any order and any case (with aliases); blank lines
are not rows. A file that cannot be read at all (size, encoding, header, a cell longer than
MAX_CELL_CHARS) raises InvalidArgument on `csv`; each row is handed over with its line number
and a cell reader, and `why` says in one line why a row was refused. A cell is single-line text
(services/kernel/validation.py): one holding NUL, a control character or a line break is refused
by the cell reader, naming its column, so that row is reported and the others are read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .errors import DomainError, Problem, invalid
from .validation import text_problem

MAX_BYTES = 1_048_576  # 1 MiB: the documented limit of an uploaded CSV (the gateway checks it too)
# No column holds more than an email address (254) or a name (200): a longer cell is a wrong
# file, refused by the csv module itself before any rule (a regular expression, say) sees it.
MAX_CELL_CHARS = 1_024
# What a refused row shows of a cell (its email, say): enough to find the row, no more.
SHOWN_CHARS = 254


class Cell:
    """A row's cells by column name, stripped; a missing column or cell reads as empty."""

    def __init__(self, index: Mapping[str, int], cells: list[str]) -> None:
        self._index = index
        self._cells = cells

    def _raw(self, name: str) -> str:
        at = self._index.get(name)
        return self._cells[at].strip() if at is not None and at < len(self._cells) else ""

    def __call__(self, name: str) -> str:
        value = self._raw(name)
        problem = text_problem(value)
        if problem:
            raise invalid(**{name: problem})
        return value

    def shown(self, name: str) -> str:
        """The cell as a refused row may show it: control characters replaced, cut short."""
        value = self._raw(name)[:SHOWN_CHARS]
        return "".join("\ufffd" if text_problem(ch) else ch for ch in value)


def read_rows(
    data: bytes,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = 10_000,
) -> Iterator[tuple[int, Cell]]:
    """(line number, cell reader) for each non-blank row."""
    check_size(data, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid(
            csv=Problem("is not UTF-8 (byte %(byte)s); save it as UTF-8 CSV", byte=exc.start)
        ) from None
    if not text.strip():
        raise invalid(csv="is empty")
    header_line = text.splitlines()[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    # Process-wide in the csv module; this module is the platform's only CSV reader.
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = aliases or {}
    header = [names.get(h.strip().lower(), h.strip().lower()) for h in _next_row(reader) or []]
    missing = [column for column in required if column not in header]
    if missing:
        raise invalid(
            csv=Problem(
                "has no column %(missing)s (its header: %(header)s)",
                missing=", ".join(missing),
                header=", ".join(header),
            )
        )
    index = {name: header.index(name) for name in (*required, *optional) if name in header}
    rows = 0
    while (cells := _next_row(reader)) is not None:
        if not any(cell.strip() for cell in cells):
            continue
        rows += 1
        if rows > max_rows:
            raise invalid(csv=Problem("has more than %(n)s rows; split the file", n=max_rows))
        yield reader.line_num, Cell(index, cells)


def check_size(data: bytes, max_bytes: int = MAX_BYTES) -> None:
    """The file's size rule, also checked by the gateway before the file is base64-encoded (so
    a file too large is refused on `csv`, never on the RPC's `csv_base64`)."""
    if not data:
        raise invalid(csv="is empty")
    if len(data) > max_bytes:
        raise invalid(
            csv=Problem("is larger than %(kib)s KiB; split the file", kib=max_bytes // 1024)
        )


def _next_row(reader: Any) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error:
        raise invalid(
            csv=Problem(
                "line %(line)s has a cell longer than %(n)s characters or is not CSV",
                line=reader.line_num,
                n=MAX_CELL_CHARS,
            )
        ) from None


# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file of `rows` under a header of `columns`: UTF-8 text, `,` between fields, CRLF
    (RFC 4180). A text cell that a spreadsheet would run as a formula starts with `'`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_inert(cell) for cell in row])
    return out.getvalue()


def _inert(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def why(exc: DomainError) -> str:
    """A refused row's reason, in one line."""
    if exc.fields:
        return "; ".join(f"{f.field} {f.description}" for f in exc.fields)
    return exc.message
