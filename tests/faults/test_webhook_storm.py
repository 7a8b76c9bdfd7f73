"""A storm of webhook deliveries: every event several times at once, interleaved with other
events about the same payment — each event is stored once and has its effect once."""

import itertools
import time

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from jobs.models import Job
from notifications.models import Notification
from payouts import ledger
from payouts.models import ConnectedAccount, WebhookEvent
from payouts.providers import get_provider
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.job_money_helpers import confirmed_job, payment, refunds, transactions
from tests.stripe_fake import post_event, stripe_event

pytestmark = [
    pytest.mark.committing,
    pytest.mark.usefixtures("on_postgres", "stripe_settings"),
]

COPIES = 5  # deliveries of each event, all at once


def _charge(job_id: int, **fields) -> dict:
    return {
        "id": f"ch_storm{job_id}",
        "object": "charge",
        "payment_intent": payment(job_id).provider_payment_id,
        "amount": 12000,
        "amount_captured": 12000,
        "currency": "eur",
        **fields,
    }


def _refund(refund_id: str, amount: int) -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {},
        "created": int(time.time()),
    }


def _dispute(job_id: int, dispute_id: str, status: str, amount: int = 12000) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "charge": f"ch_storm{job_id}",
        "payment_intent": payment(job_id).provider_payment_id,
        "amount": amount,
        "currency": "eur",
        "reason": "fraudulent",
        "status": status,
    }


def _connected_account() -> ConnectedAccount:
    member = make_actor("member", country="DE")
    row = ConnectedAccount(
        member_id=member.profile_id,
        provider="stripe",
        provider_account_id=f"acct_storm{member.profile_id}",
        country="DE",
        payouts_enabled=False,
        charges_enabled=False,
        details_submitted=False,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_storm_of_duplicate_webhooks_has_one_effect_per_event(app, client, cm):
    refunded_job, _ = confirmed_job(app, client, make_actor("customer"), cm)
    disputed_job, disputed_member = confirmed_job(app, client, make_actor("customer"), cm)
    account = _connected_account()
    made = get_provider().refund(
        payment(refunded_job).provider_payment_id, amount=2000, idempotency_key="storm-refund"
    )
    listed = {"data": [_refund(made.id, 2000)]}
    refunded = _charge(refunded_job, amount_refunded=2000, refunds=listed)
    events = [
        # A refund made in the dashboard, reported by two different events (say a retried
        # notification and a later one listing the same refund): one refund, one posting.
        stripe_event("charge.refunded", refunded),
        stripe_event("charge.refunded", refunded),
        # Meanwhile a chargeback for the rest of that payment, lost.
        stripe_event("charge.dispute.closed", _dispute(refunded_job, "dp_lost", "lost", 10000)),
        # A chargeback opened on the other job.
        stripe_event("charge.dispute.created", _dispute(disputed_job, "dp_open", "needs_response")),
        # And something else entirely.
        stripe_event(
            "account.updated",
            {"id": account.provider_account_id, "object": "account", "payouts_enabled": True},
            account=account.provider_account_id,
        ),
    ]
    # Every copy of every event, interleaved: e0 e1 e2 e3 e4 e0 e1 …
    deliveries = list(itertools.chain.from_iterable([events] * COPIES))

    answers = run_concurrently(app, len(deliveries), lambda c, i: post_event(c, deliveries[i]))

    assert [a.status_code for a in answers] == [200] * len(deliveries), [
        a.get_json() for a in answers if a.status_code != 200
    ]
    for n, sent in enumerate(events):
        firsts = [a for a in answers[n :: len(events)] if a.get_json()["duplicate"] is False]
        assert len(firsts) == 1, f"event {sent['type']} stored {len(firsts)} times"

    # Stored once each, handled once each.
    db.session.expire_all()
    stored = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    assert sorted(e.event_id for e in stored) == sorted(e["id"] for e in events)
    assert {e.attempts for e in stored} == {1}
    by_id = {e.event_id: e.status for e in stored}
    assert sorted([by_id[events[0]["id"]], by_id[events[1]["id"]]]) == ["ignored", "processed"]
    assert [by_id[e["id"]] for e in events[2:]] == ["processed"] * 3

    # The refund: one row, one reversal posted, the payment refunded by its amount once; the
    # lost chargeback borne once.
    assert [(r.amount, r.provider_refund_id) for r in refunds(refunded_job)] == [(2000, made.id)]
    assert payment(refunded_job).amount_refunded == 2000
    assert sorted(t.kind for t in transactions(refunded_job)) == [
        "dispute_lost",
        "job_refund",
        "job_settlement",
    ]
    # The other job: disputed once, its member told once, no money moved.
    assert db.session.get(Job, disputed_job).status == "disputed"
    assert [t.kind for t in transactions(disputed_job)] == ["job_settlement"]
    drain_background(app)
    told = Notification.user_id == disputed_member.user_id, Notification.kind == "job.disputed"
    assert _count(Notification, *told) == 1

    db.session.expire_all()
    assert db.session.get(ConnectedAccount, account.id).payouts_enabled is True
    assert ledger.check_invariant() == []
