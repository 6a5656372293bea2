"""Which database URL a process uses: the owner's (migrations) or the service's own user's
(ECOACH_DATABASE_USERS), with the server, port and query string of ECOACH_DATABASE_URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.kernel.config import Settings

SERVER = "postgresql://owner:secret@db.example:5432/postgres?sslmode=verify-full"


def test_without_database_users_every_url_is_the_owners_and_the_file_is_ignored(
    tmp_path: Path,
) -> None:
    config = Settings(database_url=SERVER, keys_dir=tmp_path)
    config.database_credentials_path("spaces").write_text(
        json.dumps({"user": "ecoach_spaces", "password": "x"})
    )
    owner = "postgresql://owner:secret@db.example:5432/ecoach_spaces?sslmode=verify-full"
    assert config.database_url_for("spaces") == owner
    assert config.database_owner_url_for("spaces") == owner


def test_with_database_users_the_service_logs_in_as_the_user_of_its_file(tmp_path: Path) -> None:
    config = Settings(database_url=SERVER, keys_dir=tmp_path, database_users=True)
    config.database_credentials_path("spaces").write_text(
        json.dumps({"user": "ecoach_spaces", "password": "p@ss/w:rd"})
    )
    assert config.database_url_for("spaces") == (
        "postgresql://ecoach_spaces:p%40ss%2Fw%3Ard@db.example:5432/ecoach_spaces"
        "?sslmode=verify-full"
    )
    # the migration keeps the owner's user; a server URL without a user works the same
    assert config.database_owner_url_for("spaces").startswith("postgresql://owner:secret@")
    bare = Settings(database_url="postgresql://db.example/postgres", keys_dir=tmp_path)
    bare = bare.model_copy(update={"database_users": True})
    assert bare.database_url_for("spaces").startswith("postgresql://ecoach_spaces:p%40ss")


def test_with_database_users_a_service_without_its_file_refuses_to_start(tmp_path: Path) -> None:
    config = Settings(database_url=SERVER, keys_dir=tmp_path, database_users=True)
    with pytest.raises(RuntimeError, match=r"identity\.database is missing"):
        config.database_url_for("identity")
