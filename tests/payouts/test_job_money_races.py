"""A job's money under concurrency: the payment row lock makes simultaneous
captures capture once and simultaneous refunds never exceed what was captured."""

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.extensions import db
from payouts import job_money
from payouts.models import OfflineProviderCall
from payouts.tasks import job_money as tasks
from tests.concurrency import run_concurrently, task_unit
from tests.jobs.conftest import drain_background
from tests.payouts.job_money_helpers import (
    completed_job,
    confirm,
    confirmed_job,
    payment,
    refund,
    refunds,
    transactions,
)

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("ledger_sound")]

THREADS = 8


def test_simultaneous_capture_tasks_capture_and_post_once(app, client, customer, cm, monkeypatch):
    job_id, _ = completed_job(app, client, customer, cm)
    with monkeypatch.context() as patched:
        # Confirmed, but its capture task not run: the workers below race for it.
        patched.setattr(job_money.payments, "enqueue", lambda *a, **kw: None)
        confirm(app, client, customer, job_id)

    def capture(_client, i):
        with task_unit(app):
            outcome = tasks.capture_job_payment(job_id)
            commit()
            return outcome

    results = run_concurrently(app, THREADS, capture)

    assert results == ["settled"] * THREADS
    assert len(transactions(job_id)) == 1
    key = f"job-{job_id}-capture"
    calls = select(func.count()).where(OfflineProviderCall.idempotency_key == key)
    assert db.session.scalar(calls) == 1
    assert payment(job_id).amount_captured == 12000


def test_simultaneous_refunds_never_exceed_the_capture(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)

    results = run_concurrently(
        app, THREADS, lambda c, i: refund(c, cm, job_id, 5000, reason=f"race {i}").status_code
    )

    assert sorted(results) == [202, 202] + [409] * (THREADS - 2), results
    drain_background(app)
    assert [r.status for r in refunds(job_id)] == ["succeeded", "succeeded"]
    assert payment(job_id).amount_refunded == 10000
    assert len(transactions(job_id)) == 3
