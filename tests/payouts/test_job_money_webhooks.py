"""Stripe's events about job payments: they reconcile our record, never move it backwards, and
never post to the ledger twice — whatever the order and however often they come."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core import background
from crowd.core.db import commit
from crowd.extensions import db
from jobs.models import Job, JobEvent
from notifications.models import Notification
from payouts import job_money, ledger, webhooks
from payouts.providers import get_provider
from payouts.tasks import job_money as tasks
from tests.jobs.conftest import drain_background, force_job_state
from tests.payouts.job_money_helpers import (
    assigned_job,
    balance,
    completed_job,
    confirm,
    confirmed_job,
    lines,
    outbox,
    payment,
    refund,
    refunds,
    transactions,
)
from tests.stripe_fake import post_event, stripe_event

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")


def now() -> int:
    """This moment: events are dated when a test sends them, never before its payment existed
    (one dated at import time would be, minutes into a run, and be ignored as stale)."""
    return int(time.time())


def deliver(app, client, event: dict) -> dict:
    response = post_event(client, event)
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    return response.get_json()


def intent_event(type_: str, job_id: int, status: str, *, created=None, **fields) -> dict:
    row = payment(job_id)
    intent = {
        "id": row.provider_payment_id,
        "object": "payment_intent",
        "amount": 12000,
        "currency": "eur",
        "capture_method": "manual",
        "status": status,
        "transfer_group": f"job-{job_id}",
        "metadata": {"job_id": str(job_id)},
        **fields,
    }
    return stripe_event(type_, intent, created=now() if created is None else created)


def charge(job_id: int, **fields) -> dict:
    return {
        "id": f"ch_job{job_id}",
        "object": "charge",
        "payment_intent": payment(job_id).provider_payment_id,
        "amount": 12000,
        "amount_captured": 12000,
        "currency": "eur",
        **fields,
    }


def refund_object(refund_id: str, amount: int, *, created=None, **fields) -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {},
        "created": now() if created is None else created,
        **fields,
    }


def dispute(job_id: int, status: str, *, dispute_id: str = "dp_1", **fields) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "charge": f"ch_job{job_id}",
        "payment_intent": payment(job_id).provider_payment_id,
        "amount": 12000,
        "currency": "eur",
        "reason": "product_not_received",
        "status": status,
        **fields,
    }


def test_the_job_money_handlers_are_registered():
    webhooks._load_handlers()
    for event_type in (
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
    ):
        assert webhooks.HANDLERS[event_type].__module__ == "payouts.job_money.webhooks"
        assert event_type in webhooks.SUBSCRIBED_EVENT_TYPES


# --- payment intents ------------------------------------------------------------------------


def test_capturable_authorises_a_payment_the_customer_had_to_confirm(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    row = payment(job_id)
    row.status, row.amount_authorized = "requires_action", 0  # as after a 3-D Secure request
    db.session.commit()

    event = intent_event(
        "payment_intent.amount_capturable_updated",
        job_id,
        "requires_capture",
        amount_capturable=12000,
    )
    assert deliver(app, client, event)["status"] == "processed"
    assert (payment(job_id).status, payment(job_id).amount_authorized) == ("authorized", 12000)
    again = deliver(app, client, event)
    assert again["duplicate"] is True
    assert payment(job_id).status == "authorized"


def test_a_stale_capturable_event_leaves_a_captured_payment_captured(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    event = intent_event(
        "payment_intent.amount_capturable_updated",
        job_id,
        "requires_capture",
        created=now() - 3600,
        amount_capturable=12000,
    )
    body = deliver(app, client, event)
    assert body["status"] == "ignored"
    assert (payment(job_id).status, payment(job_id).amount_captured) == ("captured", 12000)
    assert len(transactions(job_id)) == 1


def test_succeeded_after_a_crashed_capture_is_posted_once(
    app, client, customer, cm, stripe_fake, monkeypatch
):
    job_id, member = completed_job(app, client, customer, cm)
    real_post = ledger.post
    monkeypatch.setattr(ledger, "post", lambda **kw: (_ for _ in ()).throw(RuntimeError("died")))
    confirm(app, client, customer, job_id)
    monkeypatch.setattr(ledger, "post", real_post)
    assert payment(job_id).status == "authorized"

    succeeded = intent_event("payment_intent.succeeded", job_id, "succeeded", amount_received=12000)
    assert deliver(app, client, succeeded)["status"] == "processed"
    assert payment(job_id).status == "captured"
    # The handler queued the capture task, which posted without calling Stripe again.
    [settlement] = transactions(job_id)
    assert lines(settlement)[f"member:{member.profile_id}:payable"] == -9600
    assert len(stripe_fake.calls("POST", r"/v1/payment_intents/\w+/capture")) == 1
    # The crashed message, retried, and a second delivery change nothing.
    [crashed, *_] = outbox(job_money.CAPTURE_TASK, job_id=job_id)
    background.run_message(crashed.id)
    later = intent_event("payment_intent.succeeded", job_id, "succeeded", amount_received=12000)
    assert deliver(app, client, later)["status"] == "ignored"
    assert len(transactions(job_id)) == 1


def test_payment_failed_fails_a_payment_waiting_for_the_customer(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    row = payment(job_id)
    row.status = "requires_action"
    db.session.commit()
    event = intent_event(
        "payment_intent.payment_failed",
        job_id,
        "requires_payment_method",
        last_payment_error={
            "code": "authentication_required",
            "message": "The customer did not confirm.",
        },
    )
    assert deliver(app, client, event)["status"] == "processed"
    failed = payment(job_id)
    assert (failed.status, failed.failure_code) == ("failed", "authentication_required")
    told = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == customer.user_id)
    ).all()
    assert "payment.failed" in told


def test_a_stale_payment_failed_does_not_undo_an_authorisation(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    event = intent_event("payment_intent.payment_failed", job_id, "requires_payment_method")
    assert deliver(app, client, event)["status"] == "ignored"
    assert payment(job_id).status == "authorized"


def test_a_lapsed_hold_is_authorised_again_by_the_sweep(app, client, customer, cm, stripe_fake):
    job_id, _ = assigned_job(app, client, customer, cm)
    first_intent = payment(job_id).provider_payment_id
    event = intent_event("payment_intent.canceled", job_id, "canceled")
    assert deliver(app, client, event)["status"] == "processed"
    lapsed = payment(job_id)
    assert (lapsed.status, lapsed.failure_code) == ("failed", "authorization_lapsed")

    assert job_money.sweep(older_than=timedelta(0))["authorize"] == 1
    commit()
    drain_background(app)
    again = payment(job_id)
    assert (again.status, again.authorize_attempt) == ("authorized", 2)
    assert again.provider_payment_id != first_intent
    keys = [c.idempotency_key for c in stripe_fake.calls("POST", r"/v1/payment_intents")]
    assert keys == [f"job-{job_id}-authorize", f"job-{job_id}-authorize-2"]


def test_an_event_about_an_unknown_intent_is_ignored(client):
    event = stripe_event("payment_intent.succeeded", {"id": "pi_elsewhere", "status": "succeeded"})
    assert post_event(client, event).get_json()["status"] == "ignored"


# --- refunds made outside our API -----------------------------------------------------------


def test_a_refund_made_in_the_dashboard_is_posted_once(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    payable = f"member:{member.profile_id}:payable"
    made = get_provider().refund(
        payment(job_id).provider_payment_id, amount=2000, idempotency_key="dashboard-1"
    )
    first = stripe_event(
        "charge.refunded",
        charge(job_id, amount_refunded=2000, refunds={"data": [refund_object(made.id, 2000)]}),
    )
    assert deliver(app, client, first)["status"] == "processed"
    [row] = refunds(job_id)
    assert (row.source, row.provider_refund_id, row.key) == (
        "provider",
        made.id,
        f"provider-refund-{made.id}",
    )
    [_, reversal] = transactions(job_id)
    assert lines(reversal) == {"clearing:payments": -2000, "platform:revenue": 400, payable: 1600}

    assert deliver(app, client, first)["duplicate"] is True
    # A later event lists the first refund again and a new one: only the new one is posted.
    second = stripe_event(
        "charge.refunded",
        charge(
            job_id,
            amount_refunded=3000,
            refunds={"data": [refund_object(made.id, 2000), refund_object("re_second", 1000)]},
        ),
    )
    assert deliver(app, client, second)["status"] == "processed"
    assert [r.amount for r in refunds(job_id)] == [2000, 1000]
    assert len(transactions(job_id)) == 3
    assert payment(job_id).amount_refunded == 3000
    assert (
        deliver(app, client, stripe_event("charge.refunded", second["data"]["object"]))["status"]
        == "ignored"
    )


def test_our_own_refund_reported_back_is_not_posted_again(app, client, customer, cm, stripe_fake):
    job_id, _ = confirmed_job(app, client, customer, cm)
    assert refund(client, cm, job_id, 5000).status_code == 202
    drain_background(app)
    [ours] = refunds(job_id)
    reported = refund_object(ours.provider_refund_id, 5000, metadata={"refund_key": ours.key})
    event = stripe_event(
        "charge.refunded", charge(job_id, amount_refunded=5000, refunds={"data": [reported]})
    )
    assert deliver(app, client, event)["status"] == "ignored"
    assert len(refunds(job_id)) == 1 and len(transactions(job_id)) == 2


def test_a_refund_reported_before_its_task_finished_is_completed_once(
    app, client, customer, cm, stripe_fake, monkeypatch
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    with monkeypatch.context() as patched:
        patched.setattr(job_money.refunds, "enqueue", lambda *a, **kw: None)
        requested = refund(client, cm, job_id, 5000).get_json()
    [ours] = refunds(job_id)
    # The task reached Stripe, but its commit had not landed when the event came.
    made = get_provider().refund(
        payment(job_id).provider_payment_id,
        amount=5000,
        idempotency_key=ours.key,
        metadata={"job_id": job_id, "refund_key": ours.key},
    )
    reported = refund_object(made.id, 5000, metadata={"refund_key": ours.key})
    event = stripe_event(
        "charge.refunded", charge(job_id, amount_refunded=5000, refunds={"data": [reported]})
    )
    assert deliver(app, client, event)["status"] == "processed"
    assert tasks.refund_job_payment(requested["id"]) == "succeeded"
    db.session.commit()
    [row] = refunds(job_id)
    assert (row.status, row.source, row.provider_refund_id) == ("succeeded", "api", made.id)
    assert len(transactions(job_id)) == 2
    assert len(stripe_fake.calls("POST", r"/v1/refunds")) == 1


def test_without_the_refund_list_the_missing_amount_is_posted_once(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    event = stripe_event("charge.refunded", charge(job_id, amount_refunded=3000))
    assert deliver(app, client, event)["status"] == "processed"
    [row] = refunds(job_id)
    assert (row.amount, row.key) == (3000, f"provider-refund-ch_job{job_id}-3000")
    redelivered = stripe_event("charge.refunded", charge(job_id, amount_refunded=3000))
    assert deliver(app, client, redelivered)["status"] == "ignored"
    assert len(transactions(job_id)) == 2


# --- disputes -------------------------------------------------------------------------------


def test_a_chargeback_moves_a_confirmed_job_to_disputed(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    event = stripe_event("charge.dispute.created", dispute(job_id, "needs_response"))
    assert deliver(app, client, event)["status"] == "processed"
    row = payment(job_id)
    assert (row.dispute_id, row.dispute_status, row.dispute_open) == (
        "dp_1",
        "needs_response",
        True,
    )
    assert db.session.get(Job, job_id).status == "disputed"
    moved = db.session.scalar(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "dispute")
    )
    assert moved.detail["dispute_id"] == "dp_1"
    assert job_money.open_dispute_member_ids() == {member.profile_id}
    assert job_money.open_dispute_member_ids([member.profile_id + 1]) == set()
    shown = client.get(f"/api/v1/jobs/{job_id}/payment", headers=cm.headers).get_json()
    assert shown["dispute"]["open"] is True
    assert deliver(app, client, event)["duplicate"] is True

    won = stripe_event("charge.dispute.closed", dispute(job_id, "won"))
    assert deliver(app, client, won)["status"] == "processed"
    assert (payment(job_id).dispute_status, payment(job_id).dispute_open) == ("won", False)
    assert len(transactions(job_id)) == 1  # a won dispute moves no money


def test_a_lost_chargeback_is_borne_by_the_platform_once(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    deliver(app, client, stripe_event("charge.dispute.created", dispute(job_id, "needs_response")))
    lost = stripe_event("charge.dispute.closed", dispute(job_id, "lost"))
    assert deliver(app, client, lost)["status"] == "processed"
    [_, loss] = transactions(job_id)
    assert (loss.key, loss.kind) == ("dispute-dp_1-lost", "dispute_lost")
    assert lines(loss) == {"platform:disputes": 12000, "clearing:payments": -12000}
    assert balance(f"member:{member.profile_id}:payable") == 9600
    again = stripe_event("charge.dispute.closed", dispute(job_id, "lost"))
    assert deliver(app, client, again)["status"] == "ignored"
    assert len(transactions(job_id)) == 2


def test_a_chargeback_on_a_closed_job_is_recorded_only(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    force_job_state(job_id, status="closed")
    deliver(app, client, stripe_event("charge.dispute.created", dispute(job_id, "needs_response")))
    assert db.session.get(Job, job_id).status == "closed"
    assert payment(job_id).dispute_open is True


def test_a_dispute_closed_before_its_creation_arrives_stays_closed(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    closed = stripe_event("charge.dispute.closed", dispute(job_id, "won"), created=now())
    created = stripe_event(
        "charge.dispute.created", dispute(job_id, "needs_response"), created=now() - 30
    )
    deliver(app, client, closed)
    assert deliver(app, client, created)["status"] == "ignored"
    assert payment(job_id).dispute_open is False
    assert db.session.get(Job, job_id).status == "confirmed"
