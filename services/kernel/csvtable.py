"""Reading a CSV file people upload (a roster, a list of spaces): plain Python.

UTF-8 with or without a byte-order mark; `,` or `;` between fields (read from the header line);
CRLF or LF. The header names the columns in any order and any case (with aliases); blank lines
are not rows. A file that cannot be read at all (size, encoding, header) raises InvalidArgument
on `csv`; each row is handed over with its line number and a cell reader, and `why` says in one
line why a row was refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence

from .errors import DomainError, invalid

Cell = Callable[[str], str]


def read_rows(
    data: bytes,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    max_bytes: int = 1_048_576,
    max_rows: int = 10_000,
) -> Iterator[tuple[int, Cell]]:
    """(line number, cell reader) for each non-blank row."""
    if len(data) > max_bytes:
        raise invalid(csv=f"is larger than {max_bytes // 1024} KiB; split the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid(csv=f"is not UTF-8 (byte {exc.start}); save it as UTF-8 CSV") from None
    if not text.strip():
        raise invalid(csv="is empty")
    header_line = text.splitlines()[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = aliases or {}
    header = [names.get(h.strip().lower(), h.strip().lower()) for h in next(reader)]
    missing = [column for column in required if column not in header]
    if missing:
        raise invalid(csv=f"has no column {', '.join(missing)} (its header: {', '.join(header)})")
    index = {name: header.index(name) for name in (*required, *optional) if name in header}
    rows = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        rows += 1
        if rows > max_rows:
            raise invalid(csv=f"has more than {max_rows} rows; split the file")

        def cell(name: str, cells: list[str] = cells) -> str:
            at = index.get(name)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        yield reader.line_num, cell


def why(exc: DomainError) -> str:
    """A refused row's reason, in one line."""
    if exc.fields:
        return "; ".join(f"{f.field} {f.description}" for f in exc.fields)
    return exc.message
