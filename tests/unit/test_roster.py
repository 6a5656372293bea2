"""Reading a CSV of people (identity's domain): encodings, separators, line numbers."""

from __future__ import annotations

import pytest

from services.identity.domain.roster import MAX_CSV_BYTES, parse_roster
from services.kernel.errors import InvalidArgument


def test_bom_semicolons_crlf_and_any_column_order() -> None:
    data = "\ufeffRole;EMAIL;name\r\ncoach;ada@x.test;Ada\r\n\r\ncoachee|coach;bo@x.test;\r\n"
    rows, rejected = parse_roster(data.encode())
    assert rejected == []
    assert [(r.line, r.email, r.roles, r.name) for r in rows] == [
        (2, "ada@x.test", ("coach",), "Ada"),
        (4, "bo@x.test", ("coach", "coachee"), ""),
    ]
    assert rows[0].locale is None and rows[0].time_zone is None  # the tenant's defaults


def test_commas_lf_and_quoted_cells() -> None:
    rows, rejected = parse_roster(b'email,role,name\nada@x.test,coach,"Lovelace, Ada"\n')
    assert rejected == [] and rows[0].name == "Lovelace, Ada"


def test_every_bad_row_is_reported_with_its_line() -> None:
    data = (
        "email,role,locale,time_zone\n"
        "ok@x.test,coach,fr,Europe/Paris\n"
        "bad,coach,,\n"
        "OK@x.test,coachee,,\n"
        "z@x.test,,,\n"
        "y@x.test,coach,de,\n"
        "w@x.test,coach,,Atlantis/Nowhere\n"
    )
    rows, rejected = parse_roster(data.encode())
    assert [r.email for r in rows] == ["ok@x.test"]
    assert [(r.line, r.reason.split(" ")[0]) for r in rejected] == [
        (3, "email"),
        (4, "email"),
        (5, "role"),
        (6, "locale"),
        (7, "time_zone"),
    ]
    assert "line 2" in rejected[1].reason


def test_cohort_columns_are_optional_trimmed_and_at_most_80_characters() -> None:
    data = (
        "email,role,Department,site,programme\n"
        "ada@x.test,coachee, Sales ,Lyon,Leaders 2027\n"
        "bo@x.test,coachee,,,\n"
        f"cy@x.test,coachee,{'d' * 81},,\n"
    )
    rows, rejected = parse_roster(data.encode())
    assert [(r.email, r.cohort) for r in rows] == [
        ("ada@x.test", ("Sales", "Lyon", "Leaders 2027")),
        ("bo@x.test", (None, None, None)),  # empty cells: unset
    ]
    assert [(r.line, r.reason.split(" ")[0]) for r in rejected] == [(4, "department")]
    # Without the columns, nobody gets a cohort.
    rows, _ = parse_roster(b"email,role\nada@x.test,coach\n")
    assert rows[0].cohort == (None, None, None)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("email,role\nzoé@x.test,coach\n".encode("latin-1"), "UTF-8"),
        (b"name,email\nA,a@x.test\n", "no column role"),
        (b"", "empty"),
        (b"email,role\n" + b"a" * MAX_CSV_BYTES, "larger"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(data: bytes, why: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_roster(data)
    [violation] = caught.value.fields
    assert violation.field == "csv" and why in violation.description
