"""The console pages benchmark's smoke mode on PostgreSQL: it seeds, signs a CM in to the
console, requests every page and the API calls serving the same data, and prints the table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_console_pages_bench_smoke_run_prints_every_page(on_postgres):
    server = os.environ["CROWD_TEST_DATABASE_URL"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "console_pages.py"), "--smoke"],
        env={**os.environ, "DATABASE_URL": server},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| my work `/console/my-work` |" in result.stdout
    assert "8/8 pages met" in result.stdout


pytestmark = pytest.mark.filterwarnings("ignore")
