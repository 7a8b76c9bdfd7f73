"""The lock order on PostgreSQL: requests and tasks that lock the same rows wait, never deadlock.

The walk-through a probe ran on gunicorn with the worker: the member reviews a confirmed job
(publishing both reviews locks the job, the member's stats and the member) while the worker
captures the job's payment (the payment, the ledger accounts, and — through the foreign keys
of the ledger rows it inserts — a key-share lock on the member and on the job). A third
connection holds the member's stats row so that the two always interleave the way they did.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest
from sqlalchemy import func, make_url, select

from crowd.core.background import OutboxMessage, run_message
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs.models import Review
from members.models import MemberStats
from payouts import job_money
from payouts.models import OfflineProviderCall, Payout, PayoutRun
from payouts.tasks import job_money as money_tasks
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background
from tests.jobs.test_reviews import review
from tests.payouts.conftest import assert_ledger_sound, settle
from tests.payouts.job_money_helpers import completed_job, confirm, payment, transactions
from tests.payouts.test_payout_run import with_account

# PostgreSQL only: the deadlock is between row locks taken in different orders, and the test
# watches them in pg_stat_activity. SQLite has one writer at a time and no row locks, so this
# race cannot happen there (the same review and capture racing is covered by the race tests
# of jobs and payouts, which run on both databases).
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


# --- everything at once -----------------------------------------------------------------------

ROUNDS, MEMBERS = 3, 3


def _message(task_name: str, **kwargs) -> int:
    """An outbox message handed to the "worker" (a thread below), as the relay would."""
    message = OutboxMessage(task=task_name, kwargs=kwargs, status="enqueued", run_after=utcnow())
    db.session.add(message)
    db.session.commit()
    return message.id


def _prepare(app, client, cm, monkeypatch, customers, members):
    """Per member a completed job to confirm, and a confirmed one (its capture not run yet)
    that its customer reviewed: the member's review publishes both."""
    to_confirm, to_review = [], []
    for i, member in enumerate(members):
        owner, other = customers[i % 2], customers[(i + 1) % 2]
        job_id, _ = completed_job(app, client, owner, cm, member)
        to_confirm.append((owner, job_id))
        job_id, _ = completed_job(app, client, other, cm, member)
        with monkeypatch.context() as patched:
            patched.setattr(job_money.payments, "enqueue", lambda *a, **kw: None)
            confirm(app, client, other, job_id)
        assert review(client, other, job_id, stars=5).status_code == 201
        to_review.append((member, job_id))
    return to_confirm, to_review


def test_reviews_confirmations_captures_payouts_and_level_evaluations_on_the_same_members(
    app, client, cm, monkeypatch, caplog
):
    customers = [make_actor("customer") for _ in range(2)]
    members = [active_member(max_concurrent_jobs=5) for _ in range(MEMBERS)]
    for i, member in enumerate(members):
        with_account(client, member)
        if i:
            # Earnings from before: the first payout run has something to pay them. The first
            # member has none: their first capture creates their payable (as in the probe).
            settle(member.profile_id, price=10_000, commission=2_000, key=f"earlier:{i}")
            db.session.commit()
    confirmed, reviewed, results = [], [], []
    for _ in range(ROUNDS):
        to_confirm, to_review = _prepare(app, client, cm, monkeypatch, customers, members)
        work = [("confirm", customer, job_id) for customer, job_id in to_confirm]
        for member, job_id in to_review:
            work.append(("review", member, job_id))
            work.append(("task", _message(job_money.payments.CAPTURE_TASK, job_id=job_id), None))
        # One capture delivered twice: the second finds it settled.
        work.append(("task", _message(job_money.payments.CAPTURE_TASK, job_id=job_id), None))
        work.append(("task", _message("payouts.run_payouts"), None))
        work.append(("task", _message("onboarding.evaluate_levels"), None))
        caplog.clear()

        def act(client, i, work=work):
            kind, who, job_id = work[i]
            if kind == "confirm":
                response = client.post(f"/api/v1/jobs/{job_id}/confirm", headers=who.headers)
                return kind, response.status_code
            if kind == "review":
                return kind, review(client, who, job_id, stars=4).status_code
            with app.app_context():
                return kind, run_message(who)

        results += run_concurrently(app, len(work), act)
        lost = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert not [m for m in lost if "race" in m or "deadlock" in m.lower()], lost
        drain_background(app)  # the captures the confirmations queued, the payouts' sending
        confirmed += to_confirm
        reviewed += to_review

    assert all(status in (200, 201, "done") for _, status in results), results
    with app.app_context():
        db.session.expire_all()
        for _, job_id in confirmed + reviewed:
            assert [t.kind for t in transactions(job_id)] == ["job_settlement"]
            assert payment(job_id).status == "captured"
            calls = select(func.count()).where(
                OfflineProviderCall.idempotency_key == f"job-{job_id}-capture"
            )
            assert db.session.scalar(calls) == 1
        for _, job_id in reviewed:
            reviews = db.session.scalars(select(Review).where(Review.job_id == job_id)).all()
            assert sorted(r.author for r in reviews) == ["customer", "member"]
            assert all(r.published_at is not None for r in reviews)
        for member in members:
            stats = db.session.get(MemberStats, member.profile_id)
            assert (stats.rating_count, stats.rating_sum) == (ROUNDS, 5 * ROUNDS)
        runs = db.session.scalars(select(PayoutRun).order_by(PayoutRun.id)).all()
        assert len(runs) == ROUNDS
        first = db.session.scalars(select(Payout.member_id).where(Payout.run_id == runs[0].id))
        assert {m.profile_id for m in members[1:]} <= set(first)
        for run in runs:
            paid = list(db.session.scalars(select(Payout.member_id).where(Payout.run_id == run.id)))
            assert len(paid) == len(set(paid))  # nobody twice in a run
        assert_ledger_sound()
