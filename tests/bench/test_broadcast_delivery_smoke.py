"""The broadcast delivery benchmark's smoke mode: 200 members on PostgreSQL, the real sender
processes, a real aiosmtpd sink; it must end with every email sent exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_broadcast_bench_smoke_run_sends_each_email_once(on_postgres):
    server = os.environ["CROWD_TEST_DATABASE_URL"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "broadcast_delivery.py"), "--smoke"],
        env={**os.environ, "DATABASE_URL": server},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "each sent email once" in result.stdout
    assert "200 emails in" in result.stdout and "pipeline / floor" in result.stdout


pytestmark = pytest.mark.filterwarnings("ignore")
