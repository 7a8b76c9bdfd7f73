"""The console pages benchmark's smoke mode on PostgreSQL: it seeds, signs a CM in to the
console, requests every page and the API calls serving the same data, and prints the table."""

from __future__ import annotations

import os
import re
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
        timeout=600,
        cwd=ROOT,
    )
    # Timings are the bench's business, not a test's: exit 1 means a page missed its target
    # (on a busy machine), anything else that the run broke.
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    for row in (
        "| my work `/console/my-work` |",
        "| dispatch job `/console/dispatch/jobs/",
        "| application `/console/onboarding/applications/",
        "| mentoring `/console/programmes/mentoring` |",
        "| broadcast (all) `/console/programmes/broadcasts/",
        "| insight `/console/insight/` |",
        "| insight chart ratings-skill `/console/insight/charts/ratings-skill.svg` |",
        "| settings `/console/settings/` |",
    ):
        assert row in result.stdout, row
    met = re.search(r"target p95 ≤ 150 ms: (\d+)/(\d+) pages met", result.stdout)
    assert met is not None and int(met.group(2)) >= 49, result.stdout[-2000:]
    assert result.returncode == (0 if met.group(1) == met.group(2) else 1)


pytestmark = pytest.mark.filterwarnings("ignore")
