"""Simultaneous payout-run requests over HTTP, on PostgreSQL + Redis and on the embedded default.

With a queue, a requested run waits for a worker, so the other requests find it and get 409.
On the embedded default a run is carried out inline right after its request commits, so a
request that gets the database after it finished may start the next run (202): what must hold
there is no 5xx (SQLite's "database is locked" was a 503) and every member paid once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models import OfflineTransfer, Payout, PayoutRun
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.test_payout_run_races import _payees

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("ledger_sound")]

REQUESTS = 10
MEMBERS = 6


def _count(model, *where) -> int:
    # A fresh transaction: on SQLite (WAL) an open one reads its old snapshot.
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_simultaneous_run_requests_start_one_run_at_a_time_and_pay_each_member_once(app, client):
    members = _payees(client, MEMBERS)
    admin = make_actor("admin")

    answers = run_concurrently(
        app, REQUESTS, lambda c, i: c.post("/api/v1/payouts/runs", headers=admin.headers)
    )

    statuses = sorted(a.status_code for a in answers)
    started = [a.get_json()["id"] for a in answers if a.status_code == 202]
    if app.config["CROWD_SETTINGS"].redis_url:
        # Queued: the first run is still waiting for a worker while the others ask.
        assert statuses == [202] + [409] * (REQUESTS - 1), [a.get_json() for a in answers]
    else:
        assert set(statuses) <= {202, 409} and started, [a.get_json() for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["run_id"] in started
    assert _count(PayoutRun) == len(started)

    drain_background(app)
    assert _count(Payout) == MEMBERS
    assert _count(Payout, Payout.status == "paid") == MEMBERS
    assert _count(OfflineTransfer) == MEMBERS
    for member_id in members:
        assert ledger.balance(account_code_for_member(member_id), "EUR") == 0
