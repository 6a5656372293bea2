"""Production refuses settings that would leak secrets on the wire or hand out demo accounts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.identity.seed import DemoRefused, seed_demo
from services.kernel.config import Settings

SAFE = {"amqp_uri": "amqps://identity:secret@broker:5671/", "public_url": "https://ecoach.example"}


def test_production_accepts_tls_everywhere() -> None:
    Settings(env="production", **SAFE)
    Settings(env="production", **SAFE, events_amqp_uri="amqps://identity:s@broker:5671/")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amqp_uri", "amqp://identity:secret@broker:5672/"),
        ("events_amqp_uri", "amqp://identity:secret@broker:5672/"),
        ("public_url", "http://ecoach.example"),
    ],
)
def test_production_refuses_plain_text(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=f"ECOACH_{field.upper()}"):
        Settings(env="production", **{**SAFE, field: value})


def test_plain_text_is_fine_outside_production() -> None:
    for env in ("development", "test"):
        Settings(env=env, amqp_uri="amqp://guest:guest@127.0.0.1:5672/", public_url="http://x")


def test_the_demo_seed_is_refused_in_production() -> None:
    # Refused before any database is opened (this one does not exist).
    config = Settings(env="production", **SAFE, database_url="postgresql://nobody@nowhere:1/x")
    with pytest.raises(DemoRefused):
        seed_demo(config)
