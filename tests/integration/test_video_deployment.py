"""A production deployment refuses to start scheduling with a public Jitsi server (no tokens:
anyone who knows a room's name may enter) as its video default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.kernel.config import settings

ROOT = Path(__file__).resolve().parents[2]


def test_scheduling_refuses_to_start_in_production_with_a_public_jitsi_default() -> None:
    config = settings()
    env = {
        **os.environ,
        "ECOACH_ENV": "production",
        "ECOACH_AMQP_URI": "amqps://guest:guest@127.0.0.1:5671/",
        "ECOACH_PUBLIC_URL": "https://ecoach.example",
        "ECOACH_VIDEO_DEFAULT_PROVIDER": "jitsi_public",
        "ECOACH_KEYS_DIR": str(config.keys_path.resolve()),
        "ECOACH_DATABASE_URL": config.server_url(),
    }
    started = subprocess.run(
        [sys.executable, "-m", "services.kernel.runtime.run", "services.scheduling.service"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "ECOACH_VIDEO_DEFAULT_PROVIDER=jitsi_public in production" in started.stderr
