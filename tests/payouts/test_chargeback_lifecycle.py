"""A job payment's chargeback (payouts.job_money.chargebacks): each move of the webhooks emits
chargeback.<state> with the dispute; a move the table refuses is ignored and emits nothing; the
consequences (the job disputed and confirmed again, a loss booked) are the subscribers'."""

from __future__ import annotations

import pytest

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden
from crowd.core.events import wiring
from crowd.extensions import db
from jobs.models import Job
from payouts.job_money import chargebacks
from tests.event_recorder import recording
from tests.payouts.job_money_helpers import confirmed_job, payment, transactions
from tests.payouts.test_job_money_webhooks import deliver, dispute, now
from tests.stripe_fake import stripe_event

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")

ALL = chargebacks.EVENTS


def _opened(job_id: int, **fields) -> dict:
    return stripe_event("charge.dispute.created", dispute(job_id, "needs_response"), **fields)


@pytest.mark.parametrize(
    ("status", "state", "job_after"),
    [
        ("won", "won", "confirmed"),
        ("lost", "lost", "confirmed"),
        ("warning_closed", "closed", "disputed"),
    ],
)
def test_opened_then_closed_emits_both_with_the_dispute(
    app, client, customer, cm, status, state, job_after
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    row = payment(job_id)

    with recording(*ALL, "job.disputed", "job.confirmed") as caught:
        assert deliver(app, client, _opened(job_id))["status"] == "processed"
        closed = stripe_event("charge.dispute.closed", dispute(job_id, status))
        assert deliver(app, client, closed)["status"] == "processed"

    # The job follows as the subscribers of chargeback.opened / .won decide.
    expected = ["chargeback.opened", "job.disputed", f"chargeback.{state}"]
    if state in ("won", "lost"):
        expected.append("job.confirmed")
    assert sorted(e.name for e in caught) == sorted(expected)
    by_name = {e.name: e for e in caught}
    opened, closed_event = by_name["chargeback.opened"], by_name[f"chargeback.{state}"]
    assert (opened.subject_type, opened.subject_id) == ("job_payment", row.id)
    assert opened.payload == {
        "action": "open",
        "from_status": None,
        "to_status": "opened",
        "job_id": job_id,
        "dispute_id": "dp_1",
        "dispute_status": "needs_response",
        "reason": "product_not_received",
        "amount": 12000,
        "currency": "EUR",
        "evidence_due_at": None,
    }
    assert (closed_event.payload["from_status"], closed_event.payload["dispute_status"]) == (
        "opened",
        status,
    )
    assert chargebacks.state_of(payment(job_id)) == state
    assert db.session.get(Job, job_id).status == job_after
    assert len(transactions(job_id)) == (2 if state == "lost" else 1)


def test_a_replayed_closing_is_ignored_and_emits_nothing(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    deliver(app, client, _opened(job_id))
    deliver(app, client, stripe_event("charge.dispute.closed", dispute(job_id, "lost")))

    with recording(*ALL) as caught:
        again = stripe_event("charge.dispute.closed", dispute(job_id, "won"))
        body = deliver(app, client, again)

    assert body["status"] == "ignored"
    assert caught == []
    assert chargebacks.state_of(payment(job_id)) == "lost"
    assert len(transactions(job_id)) == 2


def test_an_opening_after_the_closing_changes_nothing(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    deliver(app, client, stripe_event("charge.dispute.closed", dispute(job_id, "won")))

    with recording(*ALL) as caught:
        body = deliver(app, client, _opened(job_id, created=now() - 30))

    assert body["status"] == "ignored"
    assert caught == []
    assert chargebacks.state_of(payment(job_id)) == "won"


@pytest.mark.parametrize(("status", "state"), [("won", "won"), ("warning_closed", "closed")])
def test_a_final_chargeback_refuses_every_move_and_stays_as_it_is(
    app, client, customer, cm, status, state
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    deliver(app, client, stripe_event("charge.dispute.closed", dispute(job_id, status)))
    row = payment(job_id)
    before = (row.dispute_status, row.disputed_at, row.dispute_closed_at, row.dispute_amount)

    with recording(*ALL) as caught:
        for action in ("open", "won", "lost", "closed"):
            moved = chargebacks.transition(
                row, action, dispute=dispute(job_id, action, amount=1), at=row.disputed_at
            )
            assert moved is None

    assert caught == []
    assert chargebacks.state_of(row) == state
    after = (row.dispute_status, row.disputed_at, row.dispute_closed_at, row.dispute_amount)
    assert after == before


def test_the_chargeback_consequences_are_wired(app):
    listed = wiring()
    assert set(ALL) <= set(listed)
    assert listed["chargeback.opened"] == [
        "payouts.events.dispute_job",
        "support.events.open_chargeback_case",
    ]
    assert listed["chargeback.won"] == [
        "payouts.events.confirm_job",
        "support.events.close_chargeback_case",
    ]
    assert listed["chargeback.lost"] == [
        "payouts.events.book_lost_chargeback",
        "support.events.close_chargeback_case",
    ]
    assert listed["chargeback.closed"] == ["support.events.close_chargeback_case"]


def test_open_chargebacks_are_listed_for_staff_until_closed(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    staff = Principal(user_id=cm.user_id, role="community_manager", token_id=0, via="session")
    assert chargebacks.list_open(actor=staff) == []
    deliver(app, client, _opened(job_id))
    listed = chargebacks.list_open(actor=staff)
    assert [(c["job_id"], c["status"], c["currency"]) for c in listed] == [
        (job_id, "needs_response", "EUR")
    ]
    assert listed[0]["amount"] > 0
    with pytest.raises(Forbidden):
        chargebacks.list_open(
            actor=Principal(user_id=customer.user_id, role="customer", token_id=0, via="session")
        )
    deliver(app, client, stripe_event("charge.dispute.closed", dispute(job_id, "won")))
    assert chargebacks.list_open(actor=staff) == []
