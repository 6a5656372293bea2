"""`ecoach-ops republish`'s checks before it calls anything: the service's name, the tenant id,
the operator's key, and `rebuild-reporting`'s list of services (the calls themselves:
tests/e2e/test_ops_republish.py, tests/e2e/test_reporting.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoach_ops import republish
from ecoach_ops.cli import NOT_DONE, REPORTING_SOURCES, main
from services.kernel.clock import FixedClock
from services.kernel.config import settings

CLOCK = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/"


def test_an_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["republish", "reporting-nope"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_malformed_tenant_id_is_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(republish.RepublishError, match="is not a tenant id"):
        republish.republish(UNREACHABLE, tmp_path, CLOCK, "scheduling", "acme", timeout=1)


def test_without_the_operator_s_key_nothing_is_asked(tmp_path: Path) -> None:
    with pytest.raises(republish.RepublishError, match=r"no operator key at .*ops\.key"):
        republish.republish(UNREACHABLE, tmp_path, CLOCK, "scheduling", None, timeout=1)


def test_the_command_says_what_failed_and_that_running_again_is_harmless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOACH_KEYS_DIR", str(tmp_path))
    # The settings are read once a process (cached): read them again with this key folder, not
    # the checkout's var/keys, which holds an operator key once `make run` has run.
    settings.cache_clear()
    try:
        assert main(["republish", "spaces", "--amqp-uri", UNREACHABLE]) == NOT_DONE
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    err = capsys.readouterr().err
    assert "no operator key" in err and "running the command again is harmless" in err


# ---------------------------------------------------------------- rebuild-reporting


def test_a_rebuild_republishes_every_service_reporting_listens_to() -> None:
    """Whatever reporting takes snapshots of, the rebuild asks its publisher (but reporting)."""
    from services.kernel.runtime.topology import subscriptions_of
    from services.reporting.service import ReportingService

    sources = {s.source for s in subscriptions_of(ReportingService)} - {"reporting"}
    assert set(REPORTING_SOURCES) == sources


def test_a_rebuild_with_a_malformed_tenant_id_empties_nothing(tmp_path: Path) -> None:
    with pytest.raises(republish.RepublishError, match="is not a tenant id"):
        republish.reset_reporting(UNREACHABLE, tmp_path, CLOCK, "acme", timeout=1)


def test_a_rebuild_without_the_operator_s_key_asks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOACH_KEYS_DIR", str(tmp_path))
    assert main(["rebuild-reporting", "--amqp-uri", UNREACHABLE]) == NOT_DONE
    captured = capsys.readouterr()
    assert "Emptying reporting's facts of every tenant" in captured.out
    assert "no operator key" in captured.err
