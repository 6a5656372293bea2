"""A database error, logged with its traceback, shows no value it was given (an email, a name):
engines hide SQLAlchemy's parameters, and the log formatter masks what PostgreSQL echoes."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from services.kernel.config import settings
from services.kernel.logs import JsonFormatter
from services.kernel.runtime.sql import make_engine

ADDRESS = "ada.lovelace@example.test"
NAME = "Ada Lovelace"


def logged(exc: BaseException) -> str:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), None)
    record.exc_info = (type(exc), exc, exc.__traceback__)
    return json.loads(JsonFormatter("test").format(record))["exc"]


@pytest.mark.parametrize(
    ("statement", "values"),
    [
        ("SELECT CAST(:value AS integer), :email", {"value": NAME, "email": ADDRESS}),
        (
            "CREATE TEMP TABLE people (email text PRIMARY KEY);"
            "INSERT INTO people VALUES (:email), (:email)",
            {"email": ADDRESS},
        ),
    ],
)
def test_a_failed_statement_logs_no_value(statement: str, values: dict[str, str]) -> None:
    engine = make_engine(settings().database_url_for("identity"), pool_size=1, green=True)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.connect() as connection:
            connection.execute(sa.text(statement), values)
        assert "parameters hidden" in str(caught.value)
        text = logged(caught.value)
        assert "psycopg2.errors" in text
        assert "ada" not in text.lower()
    finally:
        engine.dispose()
