"""Chargeback evidence through the provider interface: the offline provider records it once per
key; the Stripe provider (the real SDK against the local fake) updates and submits the dispute
and turns Stripe's refusals into a PaymentError."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from payouts.models import OfflineProviderCall
from payouts.providers import PaymentError
from payouts.providers.offline import OfflineProvider

EVIDENCE = {"uncategorized_text": "Work done", "service_date": "2026-12-01"}


def test_offline_evidence_is_recorded_once_per_key(app):
    provider = OfflineProvider()

    first = provider.update_dispute_evidence(
        "dp_off", evidence=EVIDENCE, submit=True, idempotency_key="dispute-dp_off-evidence-a"
    )
    again = provider.update_dispute_evidence(
        "dp_off", evidence=EVIDENCE, submit=True, idempotency_key="dispute-dp_off-evidence-a"
    )

    assert first == again
    assert (first.status, first.submission_count) == ("under_review", 1)
    calls = db.session.scalars(
        select(OfflineProviderCall).where(OfflineProviderCall.operation == "dispute_evidence")
    ).all()
    assert len(calls) == 1
    with pytest.raises(PaymentError) as refused:
        provider.update_dispute_evidence(
            "dp_off", evidence={}, submit=False, idempotency_key="dispute-dp_off-evidence-a"
        )
    assert refused.value.status == 409


def test_stripe_evidence_updates_then_submits_the_dispute(stripe_provider, stripe_fake):
    intent = stripe_provider.authorize_payment(
        amount=12000,
        currency="EUR",
        customer_ref=None,
        transfer_group="job-1",
        idempotency_key="job-1-authorize",
        metadata={"job_id": 1},
        payment_method="pm_card_visa",
    )
    stripe_provider.capture_payment(intent.id, idempotency_key="job-1-capture")
    dispute = stripe_fake.create_dispute(intent.id)

    saved = stripe_provider.update_dispute_evidence(
        dispute["id"], evidence=EVIDENCE, submit=False, idempotency_key="ev-1"
    )
    submitted = stripe_provider.update_dispute_evidence(
        dispute["id"], evidence=EVIDENCE, submit=True, idempotency_key="ev-2"
    )

    assert (saved.status, saved.submission_count) == ("needs_response", 0)
    assert (submitted.status, submitted.submission_count) == ("under_review", 1)
    calls = stripe_fake.calls("POST", f"/v1/disputes/{dispute['id']}")
    assert [c.params["submit"] for c in calls] == ["false", "true"]
    assert calls[1].params["evidence"] == EVIDENCE
    assert stripe_fake.disputes[dispute["id"]]["evidence"] == EVIDENCE
    with pytest.raises(PaymentError) as refused:
        stripe_provider.update_dispute_evidence(
            dispute["id"], evidence=EVIDENCE, submit=True, idempotency_key="ev-3"
        )
    assert (refused.value.status, refused.value.code) == (409, "dispute_already_submitted")
    with pytest.raises(PaymentError) as missing:
        stripe_provider.update_dispute_evidence(
            "dp_nowhere", evidence=EVIDENCE, submit=True, idempotency_key="ev-4"
        )
    assert missing.value.code == "resource_missing"
