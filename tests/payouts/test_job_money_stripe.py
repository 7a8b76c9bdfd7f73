"""A job's money with the Stripe provider (the real SDK against tests/stripe_fake.py): the exact
requests, amounts and idempotency keys, and retries that reuse them."""

import pytest

from crowd.core import background
from crowd.extensions import db
from payouts import job_money, ledger
from payouts.tasks import job_money as tasks
from tests.jobs.conftest import drain_background
from tests.payouts.job_money_helpers import (
    assigned_job,
    cancel,
    complete,
    completed_job,
    confirm,
    confirmed_job,
    lines,
    outbox,
    payment,
    refund,
    soon_window,
    transactions,
)

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")

INTENTS = r"/v1/payment_intents"


def only(calls):
    assert len(calls) == 1, calls
    return calls[0]


def test_the_whole_flow_sends_exactly_these_requests(app, client, customer, cm, stripe_fake):
    job_id, member = assigned_job(app, client, customer, cm)
    authorize = only(stripe_fake.calls("POST", INTENTS))
    assert authorize.idempotency_key == f"job-{job_id}-authorize"
    assert authorize.params == {
        "amount": "12000",
        "currency": "eur",
        "capture_method": "manual",
        "transfer_group": f"job-{job_id}",
        "metadata": {"job_id": str(job_id), "customer_id": str(customer.profile_id)},
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "off_session": "true",
        "automatic_payment_methods": {"enabled": "true", "allow_redirects": "never"},
    }
    intent_id = payment(job_id).provider_payment_id
    assert intent_id.startswith("pi_") and payment(job_id).status == "authorized"
    assert stripe_fake.payment_intents[intent_id]["status"] == "requires_capture"

    complete(app, client, member, job_id)
    confirm(app, client, customer, job_id)
    capture = only(stripe_fake.calls("POST", rf"{INTENTS}/{intent_id}/capture"))
    assert capture.idempotency_key == f"job-{job_id}-capture"
    assert capture.params == {"amount_to_capture": "12000"}
    assert stripe_fake.payment_intents[intent_id]["amount_received"] == 12000
    [settlement] = transactions(job_id)
    assert lines(settlement) == {
        "clearing:payments": 12000,
        "platform:revenue": -2400,
        f"member:{member.profile_id}:payable": -9600,
    }

    response = refund(client, cm, job_id, 3000)
    assert response.status_code == 202, response.get_json()
    drain_background(app)
    made = only(stripe_fake.calls("POST", r"/v1/refunds"))
    assert made.idempotency_key == f"job-{job_id}-refund-1"
    assert made.params == {
        "payment_intent": intent_id,
        "amount": "3000",
        "metadata": {"job_id": str(job_id), "refund_key": f"job-{job_id}-refund-1"},
    }
    assert payment(job_id).status == "partially_refunded"
    # Nothing else went to Stripe: one authorisation, one capture, one refund.
    assert len(stripe_fake.calls("POST")) == 3


def test_the_capture_task_run_twice_sends_one_capture(app, client, customer, cm, stripe_fake):
    job_id, _ = confirmed_job(app, client, customer, cm)
    assert tasks.capture_job_payment(job_id) == "settled"
    db.session.commit()
    assert len(stripe_fake.calls("POST", rf"{INTENTS}/\w+/capture")) == 1
    assert len(transactions(job_id)) == 1


def test_a_crash_after_stripe_captured_replays_the_key_and_posts_once(
    app, client, customer, cm, stripe_fake, monkeypatch
):
    job_id, member = completed_job(app, client, customer, cm)
    real_post = ledger.post
    monkeypatch.setattr(ledger, "post", lambda **kw: (_ for _ in ()).throw(RuntimeError("died")))
    confirm(app, client, customer, job_id)
    intent_id = payment(job_id).provider_payment_id
    assert stripe_fake.payment_intents[intent_id]["status"] == "succeeded"  # Stripe captured
    assert payment(job_id).status == "authorized" and transactions(job_id) == []

    monkeypatch.setattr(ledger, "post", real_post)
    [message] = outbox(job_money.CAPTURE_TASK, job_id=job_id)
    assert background.run_message(message.id) == "done"
    first, retry = stripe_fake.calls("POST", rf"{INTENTS}/{intent_id}/capture")
    assert first.idempotency_key == retry.idempotency_key == f"job-{job_id}-capture"
    assert retry.replayed  # Stripe answered from its idempotency store: no second capture
    assert payment(job_id).amount_captured == 12000
    [settlement] = transactions(job_id)
    assert lines(settlement)[f"member:{member.profile_id}:payable"] == -9600


def test_an_outage_at_authorisation_is_retried_with_the_same_key(
    app, client, customer, cm, stripe_fake
):
    # Initial request plus the SDK's own two retries all fail; the outbox tries again later.
    stripe_fake.fail_next(INTENTS, status=500, type="api_error", code=None, times=3)
    job_id, _ = assigned_job(app, client, customer, cm)
    assert payment(job_id).status == "pending"
    [message] = outbox(job_money.AUTHORIZE_TASK, job_id=job_id)
    assert message.status == "pending" and "unavailable" in message.last_error.lower()

    assert background.run_message(message.id) == "done"
    calls = stripe_fake.calls("POST", INTENTS)
    assert len(calls) == 4
    assert {call.idempotency_key for call in calls} == {f"job-{job_id}-authorize"}
    assert payment(job_id).status == "authorized"
    assert len(stripe_fake.payment_intents) == 1


def test_a_card_declined_at_stripe_is_recorded(app, client, customer, cm, stripe_fake):
    job_id, _ = assigned_job(
        app, client, customer, cm, method="pm_card_chargeDeclinedInsufficientFunds"
    )
    failed = payment(job_id)
    assert (failed.status, failed.failure_code) == ("failed", "insufficient_funds")
    assert failed.provider_payment_id is None
    assert len(stripe_fake.calls("POST", INTENTS)) == 1


def test_a_free_cancellation_cancels_the_intent(app, client, customer, cm, stripe_fake):
    job_id, _ = assigned_job(app, client, customer, cm)
    intent_id = payment(job_id).provider_payment_id
    cancel(app, client, customer, job_id)
    released = only(stripe_fake.calls("POST", rf"{INTENTS}/{intent_id}/cancel"))
    assert released.idempotency_key == f"job-{job_id}-cancel"
    assert stripe_fake.payment_intents[intent_id]["status"] == "canceled"
    assert payment(job_id).status == "cancelled"
    assert transactions(job_id) == []


def test_a_late_cancellation_captures_only_the_fee(app, client, customer, cm, stripe_fake):
    job_id, member = assigned_job(app, client, customer, cm, windows=soon_window())
    intent_id = payment(job_id).provider_payment_id
    cancel(app, client, customer, job_id)
    fee = only(stripe_fake.calls("POST", rf"{INTENTS}/{intent_id}/capture"))
    assert fee.idempotency_key == f"job-{job_id}-cancellation-fee"
    assert fee.params == {"amount_to_capture": "2400"}
    assert stripe_fake.calls("POST", rf"{INTENTS}/{intent_id}/cancel") == []
    [posted] = transactions(job_id)
    assert lines(posted) == {
        "clearing:payments": 2400,
        "platform:fees": -480,
        f"member:{member.profile_id}:payable": -1920,
    }
