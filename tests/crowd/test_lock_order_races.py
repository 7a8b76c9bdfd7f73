"""The lock order on PostgreSQL: requests and tasks that lock the same rows wait, never deadlock.

The walk-through a probe ran on gunicorn with the worker: the member reviews a confirmed job
(publishing both reviews locks the job, the member's stats and the member) while the worker
captures the job's payment (the payment, the ledger accounts, and — through the foreign keys
of the ledger rows it inserts — a key-share lock on the member and on the job). A third
connection holds the member's stats row so that the two always interleave the way they did.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlalchemy import make_url, select

from crowd.core.db import commit
from crowd.extensions import db
from crowd.members.models import MemberStats
from jobs.models import Review
from payouts import job_money
from payouts.tasks import job_money as money_tasks
from tests.jobs.test_reviews import review
from tests.payouts.conftest import assert_ledger_sound
from tests.payouts.job_money_helpers import completed_job, confirm, payment, transactions

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("on_postgres")]


def _connect(app) -> psycopg.Connection:
    url = make_url(app.config["CROWD_SETTINGS"].database_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False))


def _waiting_on_locks(watch: psycopg.Connection, exclude_pid: int) -> int:
    """How many sessions of this database wait for a row or transaction lock right now."""
    return watch.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), %s)",
        (exclude_pid,),
    ).fetchone()[0]


def _until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_member_review_and_capture_task_both_go_through(
    app, client, customer, cm, monkeypatch, caplog
):
    job_id, member = completed_job(app, client, customer, cm)
    with monkeypatch.context() as patched:
        # Confirmed, its capture left to the "worker" below.
        patched.setattr(job_money.payments, "enqueue", lambda *a, **kw: None)
        confirm(app, client, customer, job_id)
    # The customer's review waits hidden; the member's review publishes both.
    assert review(client, customer, job_id, stars=5).status_code == 201

    results: dict[str, object] = {}
    gate, watch = _connect(app), _connect(app)
    watch.autocommit = True
    gate.execute("SELECT 1 FROM member_stats WHERE member_id = %s FOR UPDATE", (member.profile_id,))
    gate_pid = gate.info.backend_pid

    def member_reviews():
        results["review"] = review(app.test_client(), member, job_id, stars=4)

    def worker_captures():
        with app.app_context():
            try:
                results["capture"] = money_tasks.capture_job_payment(job_id)
                commit()
            except Exception as error:  # what the worker would log as a failed task
                db.session.rollback()
                results["capture"] = error

    reviewing = threading.Thread(target=member_reviews)
    capturing = threading.Thread(target=worker_captures)
    try:
        reviewing.start()
        # The review holds the job and waits for the stats row the gate holds.
        assert _until(lambda: _waiting_on_locks(watch, gate_pid) == 1)
        capturing.start()
        # The capture either runs through or waits behind the review's lock on the job.
        _until(lambda: not capturing.is_alive() or _waiting_on_locks(watch, gate_pid) == 2)
        time.sleep(0.2)
    finally:
        gate.rollback()
        gate.close()
        watch.close()
    reviewing.join(60)
    capturing.join(60)

    assert results["capture"] == "settled", results["capture"]
    assert results["review"].status_code == 201, results["review"].get_json()
    # Not rescued by a retry either: nobody waited in a cycle.
    assert "contention" not in caplog.text.lower()
    assert "deadlock" not in caplog.text.lower()
    with app.app_context():
        reviews = db.session.scalars(select(Review).where(Review.job_id == job_id)).all()
        assert sorted(r.author for r in reviews) == ["customer", "member"]
        assert all(r.published_at is not None for r in reviews)
        stats = db.session.get(MemberStats, member.profile_id)
        assert (stats.rating_count, stats.rating_sum) == (1, 5)
        assert len(transactions(job_id)) == 1
        assert payment(job_id).status == "captured"
        assert_ledger_sound()
