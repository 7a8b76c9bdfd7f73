"""Concurrent answers, deadlines and impositions: a proposal applies once."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import run_periodic
from crowd.extensions import db
from payouts.models import JobRefund, LedgerTransaction
from support.models import Resolution, TicketEvent
from tests.concurrency import run_concurrently
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import assert_ledger_sound
from tests.support.dispute_helpers import (
    answer,
    deadline_passes,
    disputed_job,
    proposed,
    staff_act,
)

pytestmark = pytest.mark.committing

THREADS = 6


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _applied_once(app, job_id: int, ticket_id: int, resolution_id: int) -> Resolution:
    assert (
        _count(app, TicketEvent, TicketEvent.ticket_id == ticket_id, TicketEvent.action == "apply")
        == 1
    )
    assert _count(app, JobRefund, JobRefund.job_id == job_id) == 1
    refunds = _count(
        app,
        LedgerTransaction,
        LedgerTransaction.job_id == job_id,
        LedgerTransaction.kind == "job_refund",
    )
    assert refunds == 1
    with app.app_context():
        assert_ledger_sound()
        return db.session.get(Resolution, resolution_id)


@pytest.mark.parametrize("confirmed", [True, False], ids=["settled", "authorised"])
def test_the_deadline_racing_the_last_acceptance_applies_once(app, client, customer, cm, confirmed):
    job_id, member, ticket = disputed_job(app, client, customer, cm, confirmed=confirmed)
    resolution = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=3000)
    assert answer(client, customer, ticket["id"], resolution["id"], "accept").status_code == 200
    deadline_passes(resolution["id"])

    def race(client, i):
        if i == 0:
            return answer(client, member, ticket["id"], resolution["id"], "accept").status_code
        with app.app_context():
            # As the scheduler runs it: its own unit of work, run again if it loses a race.
            return f"deadline:{run_periodic('support.apply_due_resolutions')}"

    results = run_concurrently(app, THREADS, race)
    drain_background(app)

    winners = [r for r in results if r in (200, "deadline:1")]
    assert len(winners) == 1, results
    assert set(results) - set(winners) <= {409, "deadline:0"}
    row = _applied_once(app, job_id, ticket["id"], resolution["id"])
    assert row.applied_by == ("parties" if winners == [200] else "deadline")


def test_simultaneous_impositions_and_a_withdrawal_settle_once(app, client, customer, cm):
    job_id, _, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="split", customer_share_percent=25)

    def act(client, i):
        action = "withdraw" if i == 0 else "impose"
        return action, staff_act(client, cm, ticket["id"], resolution["id"], action).status_code

    results = run_concurrently(app, THREADS, act)
    drain_background(app)

    assert sorted(code for _, code in results) == [200] + [409] * (THREADS - 1)
    (winner,) = [action for action, code in results if code == 200]
    if winner == "impose":
        assert _applied_once(app, job_id, ticket["id"], resolution["id"]).status == "applied"
    else:
        assert _count(app, JobRefund, JobRefund.job_id == job_id) == 0
