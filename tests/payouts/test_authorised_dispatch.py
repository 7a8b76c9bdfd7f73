"""No work without an authorised payment: a job is authorised when posted, offered only then."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from jobs import dispatch
from jobs.models import Job, Offer
from notifications.models import Notification
from payouts import ledger
from payouts.models import OfflineProviderCall
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import (
    complete,
    confirm,
    payment,
    post_job,
    save_method,
    transactions,
)


@pytest.fixture(autouse=True)
def authorise_before_dispatch(app, monkeypatch):
    """The rule as deployed (the shared test settings turn it off for the other tests)."""
    monkeypatch.setitem(app.config, "JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH", True)


def offers(job_id: int) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.job_id == job_id)))


def notices(customer, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == customer.user_id, Notification.kind == kind
            )
        )
    )


def authorisations() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OfflineProviderCall)
        .where(OfflineProviderCall.operation == "authorize")
    )


def shown(client, customer, job_id: int) -> dict:
    response = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_without_a_payment_method_no_offer_goes_out_and_the_customer_sees_why(
    app, client, customer
):
    active_member()  # someone who would be offered the job
    job_id = post_job(app, client, customer)

    job = db.session.get(Job, job_id)
    assert (job.status, job.wave, offers(job_id)) == ("open", 0, [])
    held = payment(job_id)
    assert (held.status, held.amount_authorized, held.provider_payment_id) == (
        "requires_payment_method",
        0,
        None,
    )
    view = shown(client, customer, job_id)
    assert (view["status"], view["payment_method_on_file"]) == ("requires_payment_method", False)
    assert "No payment method on file" in view["last_error"]
    [notice] = notices(customer, "payment.method_required")
    assert notice.data["job_id"] == job_id
    assert authorisations() == 0  # nothing was sent to the provider


def test_saving_a_card_authorises_the_job_and_sends_its_offers(app, client, customer, cm):
    member = active_member()
    job_id = post_job(app, client, customer)
    assert offers(job_id) == []

    assert save_method(client, customer).status_code == 200
    drain_background(app)

    authorised = payment(job_id)
    assert (authorised.status, authorised.amount_authorized) == ("authorized", 12000)
    [offer] = offers(job_id)
    assert (offer.member_id, offer.status) == (member.profile_id, "pending")
    assert db.session.get(Job, job_id).status == "offered"
    assert shown(client, customer, job_id)["status"] == "authorized"

    # The member takes it; the assignment does not authorise a second time.
    accepted = client.post(f"/api/v1/offers/{offer.id}/accept", headers=member.headers)
    assert accepted.status_code == 200, accepted.get_json()
    drain_background(app)
    assert authorisations() == 1
    complete(app, client, member, job_id)
    confirm(app, client, customer, job_id)
    assert payment(job_id).status == "captured"
    assert len(transactions(job_id)) == 1
    assert ledger.check_invariant() == []


def test_a_card_saved_before_posting_is_authorised_before_the_first_wave(app, client, customer):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)

    assert payment(job_id).status == "authorized"
    assert [o.member_id for o in offers(job_id)] == [member.profile_id]
    assert notices(customer, "payment.method_required") == []


def test_a_declined_card_pauses_dispatch_and_tells_the_customer(app, client, customer, cm):
    active_member()
    assert save_method(client, customer, "pm_card_chargeDeclined").status_code == 200
    job_id = post_job(app, client, customer)

    failed = payment(job_id)
    assert (failed.status, failed.failure_code) == ("failed", "generic_decline")
    assert (db.session.get(Job, job_id).status, offers(job_id)) == ("open", [])
    [notice] = notices(customer, "payment.failed")
    assert notice.data["job_id"] == job_id
    # Staff cannot send a wave over it either: 409 with the reason.
    response = client.post(f"/api/v1/staff/jobs/{job_id}/dispatch", headers=cm.headers)
    assert response.status_code == 409
    assert response.get_json()["type"] == "https://crowd.example/problems/dispatch-held"
    assert "not authorised" in response.get_json()["detail"]
    assert offers(job_id) == []

    # Another card lifts the hold.
    assert save_method(client, customer).status_code == 200
    drain_background(app)
    assert payment(job_id).status == "authorized"
    assert len(offers(job_id)) == 1
    assert ledger.check_invariant() == []


def test_cancelling_a_held_job_sends_nothing_to_the_provider(app, client, customer):
    job_id = post_job(app, client, customer)
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Plans changed"}, headers=customer.headers
    )
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    assert payment(job_id).status == "cancelled"
    assert authorisations() == 0
    assert ledger.check_invariant() == []


def waves_queued(job_id: int) -> int:
    return sum(
        1
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.task == "jobs.dispatch_wave")
        )
        if message.kwargs.get("job_id") == job_id
    )


def test_a_held_job_queues_no_wave_and_its_authorisation_sends_the_first(app, client, customer):
    """Posting a job its payment holds queues no wave (it would only be skipped); the
    authorisation's task sends the first wave itself, without a second background hop."""
    member = active_member()
    job_id = post_job(app, client, customer)  # no payment method: held
    assert waves_queued(job_id) == 0

    assert save_method(client, customer).status_code == 200
    drain_background(app)

    assert [o.member_id for o in offers(job_id)] == [member.profile_id]
    assert waves_queued(job_id) == 0  # sent by the authorisation, not queued


def test_a_wave_failing_after_the_authorisation_keeps_it_and_queues_the_wave(
    app, client, customer, monkeypatch
):
    member = active_member()
    job_id = post_job(app, client, customer)
    real_dispatch = dispatch._dispatch
    broken = {"left": 1}

    def fails_once(job, **kwargs):
        outcome = real_dispatch(job, **kwargs)
        if broken["left"]:
            broken["left"] -= 1
            db.session.flush()  # its offers written, then it breaks
            raise RuntimeError("the wave broke after writing its offers")
        return outcome

    monkeypatch.setattr(dispatch, "_dispatch", fails_once)
    assert save_method(client, customer).status_code == 200
    drain_background(app)

    # The authorisation stands, the half-written wave was undone, and the queued wave ran.
    assert (payment(job_id).status, authorisations()) == ("authorized", 1)
    assert waves_queued(job_id) == 1
    [offer] = offers(job_id)
    assert (offer.member_id, offer.status) == (member.profile_id, "pending")
    assert broken["left"] == 0
