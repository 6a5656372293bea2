"""Reading a CSV of spaces (services/spaces/domain/importing.py)."""

from __future__ import annotations

from datetime import date

import pytest

from services.kernel.errors import InvalidArgument
from services.spaces.domain.importing import parse_space_rows

HEADER = "coachee_email,coach_email,co_coach_email,cadence,sessions,start_date,end_date\n"


def test_good_rows_with_optional_columns_and_any_header_case() -> None:
    rows, rejected = parse_space_rows(
        b"COACHEE_EMAIL;Coach;cadence;sessions;start_date\n"
        b"a@example.test;b@example.test;Weekly;4;2027-01-04\n"
    )
    assert rejected == []
    [row] = rows
    assert (row.line, row.cadence, row.sessions, row.starts_on) == (
        2,
        "weekly",
        4,
        date(2027, 1, 4),
    )
    assert row.co_coach_email is None and row.ends_on is None


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("x,b@example.test,,weekly,4,2027-01-04,", "coachee_email"),
        ("a@example.test,b@example.test,c,weekly,4,2027-01-04,", "co_coach_email"),
        ("a@example.test,b@example.test,,daily,4,2027-01-04,", "cadence"),
        ("a@example.test,b@example.test,,weekly,four,2027-01-04,", "sessions"),
        ("a@example.test,b@example.test,,weekly,201,2027-01-04,", "sessions"),
        ("a@example.test,b@example.test,,weekly,4,04/01/2027,", "start_date"),
        ("a@example.test,b@example.test,,weekly,4,2027-01-04,later", "end_date"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_field(line: str, field: str) -> None:
    rows, rejected = parse_space_rows((HEADER + line + "\n").encode())
    assert rows == [] and [r.line for r in rejected] == [2]
    assert field in rejected[0].reason


def test_a_file_without_the_required_columns_is_refused_whole() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_space_rows(b"coachee_email,coach_email\na@example.test,b@example.test\n")
    assert [f.field for f in raised.value.fields] == ["csv"]
