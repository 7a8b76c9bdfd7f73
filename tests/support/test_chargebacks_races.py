"""Community managers sending a chargeback's evidence at the same moment: one submission
reaches Stripe, the others are refused (409), and the ledger stays sound."""

import pytest

from crowd.extensions import db
from tests.concurrency import run_concurrently
from tests.payouts.conftest import (  # noqa: F401  (fixtures)
    assert_ledger_sound,
    stripe_fake,
    stripe_fake_server,
    stripe_settings,
)
from tests.payouts.job_money_helpers import confirmed_job, payment
from tests.payouts.test_job_money_webhooks import deliver
from tests.stripe_fake import stripe_event
from tests.support.test_chargebacks import case_ticket, evidence_path

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("stripe_settings")]

THREADS = 4


def test_simultaneous_submissions_reach_stripe_once(app, client, customer, cm, admin, request):
    fake = request.getfixturevalue("stripe_fake")
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = fake.create_dispute(payment(job_id).provider_payment_id)
    deliver(app, client, stripe_event("charge.dispute.created", dispute))
    ticket_id = case_ticket(job_id).id

    def submit(client, i):
        staff = cm if i % 2 else admin
        body = {"evidence": {"uncategorized_text": f"Evidence {i}"}, "submit": True}
        return client.post(evidence_path(ticket_id), json=body, headers=staff.headers).status_code

    results = run_concurrently(app, THREADS, submit)

    assert sorted(results) == [200] + [409] * (THREADS - 1)
    assert len(fake.calls("POST", f"/v1/disputes/{dispute['id']}")) == 1
    assert fake.disputes[dispute["id"]]["evidence_details"]["submission_count"] == 1
    with app.app_context():
        db.session.expire_all()
        assert payment(job_id).dispute_evidence_submitted_at is not None
        assert_ledger_sound()
