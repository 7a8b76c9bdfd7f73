"""A job's money on the offline provider, through the API: authorise on assignment, capture and
split on confirmation, release or late fee on cancellation — each exactly once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core import background
from crowd.core.db import commit
from crowd.extensions import db
from jobs.models import Job
from notifications.models import Notification
from payouts import job_money, ledger
from payouts.models import OfflinePayment, OfflineProviderCall
from payouts.tasks import job_money as tasks
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import (
    assign,
    assigned_job,
    balance,
    cancel,
    complete,
    completed_job,
    confirm,
    confirmed_job,
    lines,
    outbox,
    payment,
    post_job,
    save_method,
    soon_window,
    transactions,
    with_perk,
)

pytestmark = pytest.mark.usefixtures("ledger_sound")


def provider_calls(key: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OfflineProviderCall)
        .where(OfflineProviderCall.idempotency_key == key)
    )


# --- the whole flow -----------------------------------------------------------------------


def test_a_job_is_authorised_on_assignment_and_split_on_confirmation(app, client, customer, cm):
    assert save_method(client, customer).status_code == 200
    member = active_member()
    job_id = post_job(app, client, customer)  # 120.00 EUR
    assert payment(job_id) is None  # nothing to pay before someone takes the job

    assign(app, client, cm, job_id, member)
    authorised = payment(job_id)
    assert (authorised.status, authorised.amount_authorized) == ("authorized", 12000)
    assert authorised.transfer_group == f"job-{job_id}"
    intent = db.session.get(OfflinePayment, authorised.provider_payment_id)
    assert (intent.status, intent.amount, intent.transfer_group) == (
        "requires_capture",
        12000,
        f"job-{job_id}",
    )
    assert intent.metadata_ == {"job_id": str(job_id), "customer_id": str(customer.profile_id)}
    assert transactions(job_id) == []  # an authorisation moves no money

    complete(app, client, member, job_id)
    assert payment(job_id).status == "authorized"
    confirm(app, client, customer, job_id)

    captured = payment(job_id)
    assert (captured.status, captured.amount_captured) == ("captured", 12000)
    assert (captured.commission_amount, captured.member_earning, captured.plan_code) == (
        2400,
        9600,
        "standard",
    )
    [settlement] = transactions(job_id)
    assert settlement.key == f"job-{job_id}-settlement"
    assert settlement.id == captured.settlement_transaction_id
    assert lines(settlement) == {
        "clearing:payments": 12000,
        "platform:revenue": -2400,
        f"member:{member.profile_id}:payable": -9600,
    }
    assert balance(f"member:{member.profile_id}:payable") == 9600
    assert db.session.get(OfflinePayment, captured.provider_payment_id).amount_captured == 12000


def test_a_perk_lowers_the_commission_taken_at_confirmation(app, client, customer, cm):
    member = active_member()
    with_perk(member, 500)  # 20 % − 5 points = 15 %
    job_id, _ = confirmed_job(app, client, customer, cm, member)
    [settlement] = transactions(job_id)
    assert lines(settlement) == {
        "clearing:payments": 12000,
        "platform:revenue": -1800,
        f"member:{member.profile_id}:payable": -10200,
    }
    assert payment(job_id).commission_amount == 1800


def test_an_odd_price_splits_to_the_exact_minor_unit(app, client, customer, cm):
    zurich = {"lat": 47.3769, "lon": 8.5417}
    address = {"street": "Bahnhofstrasse 1", "postcode": "8001", "city": "Zürich", "country": "CH"}
    job_id, member = confirmed_job(
        app,
        client,
        customer,
        cm,
        active_member(**zurich),
        pricing={"kind": "fixed", "amount": 12345},
        currency="CHF",
        address={**address, **zurich},
    )
    [settlement] = transactions(job_id)
    assert settlement.currency == "CHF"
    assert lines(settlement) == {
        "clearing:payments": 12345,
        "platform:revenue": -2469,  # 2 469.0
        f"member:{member.profile_id}:payable": -9876,
    }


def test_a_fixed_fee_plan_books_its_fee_as_a_platform_fee(app, client, customer, cm, admin):
    member = active_member()
    created = client.post(
        "/api/v1/plans",
        json={
            "code": "fixed5",
            "name": "5 EUR per job",
            "kind": "fixed_fee",
            "fixed_fee_amount": 500,
            "fee_currency": "EUR",
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.get_json()
    assigned = client.post(
        f"/api/v1/members/{member.profile_id}/plan",
        json={"plan_code": "fixed5"},
        headers=admin.headers,
    )
    assert assigned.status_code == 201, assigned.get_json()
    job_id, _ = confirmed_job(app, client, customer, cm, member)
    [settlement] = transactions(job_id)
    assert lines(settlement) == {
        "clearing:payments": 12000,
        "platform:fees": -500,
        f"member:{member.profile_id}:payable": -11500,
    }


def test_an_auto_confirmed_job_is_captured_too(app, client, customer, cm):
    job_id, member = completed_job(app, client, customer, cm)
    job = db.session.get(Job, job_id)
    job.completed_at = job.status_changed_at = job.completed_at - timedelta(hours=73)
    db.session.commit()
    background.run_periodic("jobs.sweep_lifecycle")  # auto-confirms, as the scheduler would
    drain_background(app)
    assert db.session.get(Job, job_id).status == "confirmed"
    assert payment(job_id).status == "captured"
    assert len(transactions(job_id)) == 1


# --- exactly once ---------------------------------------------------------------------------


def test_the_capture_task_run_twice_captures_and_posts_once(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    assert tasks.capture_job_payment(job_id) == "settled"
    db.session.commit()
    assert tasks.capture_job_payment(job_id) == "settled"
    db.session.commit()
    assert provider_calls(f"job-{job_id}-capture") == 1
    assert len(transactions(job_id)) == 1


def test_a_crash_between_capture_and_posting_is_retried_and_posts_once(
    app, client, customer, cm, monkeypatch
):
    job_id, member = completed_job(app, client, customer, cm)
    real_post = ledger.post

    def dies(**kw):
        raise RuntimeError("worker died")

    monkeypatch.setattr(ledger, "post", dies)
    confirm(app, client, customer, job_id)
    # The task died after the provider call: its whole unit of work was rolled back.
    assert payment(job_id).status == "authorized"
    assert transactions(job_id) == []
    [message] = outbox(job_money.CAPTURE_TASK, job_id=job_id)
    assert message.status == "pending" and "worker died" in message.last_error

    monkeypatch.setattr(ledger, "post", real_post)
    assert background.run_message(message.id) == "done"
    assert payment(job_id).status == "captured"
    assert len(transactions(job_id)) == 1
    assert provider_calls(f"job-{job_id}-capture") == 1
    assert balance(f"member:{member.profile_id}:payable") == 9600
    # Running the message again (a relay retry) changes nothing.
    assert background.run_message(message.id) == "skipped"
    assert len(transactions(job_id)) == 1


def test_the_sweep_queues_a_confirmed_job_left_unsettled(app, client, customer, cm, monkeypatch):
    job_id, _ = completed_job(app, client, customer, cm)
    real_post = ledger.post
    monkeypatch.setattr(ledger, "post", lambda **kw: (_ for _ in ()).throw(RuntimeError("down")))
    confirm(app, client, customer, job_id)
    monkeypatch.setattr(ledger, "post", real_post)
    assert job_money.sweep(older_than=timedelta(0))["capture"] == 1
    commit()
    drain_background(app)
    assert payment(job_id).status == "captured"
    assert len(transactions(job_id)) == 1


# --- authorisation problems -----------------------------------------------------------------


def test_without_a_payment_method_the_authorisation_waits_for_one(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm, method=None)
    assert payment(job_id).status == "requires_payment_method"
    shown = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers).get_json()
    assert shown["status"] == "requires_payment_method"
    assert shown["payment_method_on_file"] is False

    assert save_method(client, customer).status_code == 200
    drain_background(app)
    assert payment(job_id).status == "authorized"
    complete(app, client, member, job_id)
    confirm(app, client, customer, job_id)
    assert payment(job_id).status == "captured"


def test_a_job_confirmed_before_its_authorisation_is_captured_once_authorised(
    app, client, customer, cm
):
    job_id, member = completed_job(app, client, customer, cm, method=None)
    confirm(app, client, customer, job_id)
    assert payment(job_id).status == "requires_payment_method"
    assert transactions(job_id) == []
    save_method(client, customer)
    drain_background(app)
    assert payment(job_id).status == "captured"
    assert len(transactions(job_id)) == 1


def test_a_declined_authorisation_is_recorded_and_the_customer_told(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm, method="pm_card_chargeDeclined")
    failed = payment(job_id)
    assert (failed.status, failed.failure_code) == ("failed", "generic_decline")
    assert failed.last_error == "Your card was declined."
    assert db.session.get(Job, job_id).status == "assigned"  # the job goes on
    drain_background(app)
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == customer.user_id, Notification.kind == "payment.failed"
        )
    ).all()
    assert len(told) == 1
    # Running the task again does not try the declined card again.
    assert tasks.authorize_job_payment(job_id) == "failed"
    assert provider_calls(f"job-{job_id}-authorize") == 1


def test_a_new_payment_method_after_a_decline_is_a_new_attempt_with_its_own_key(
    app, client, customer, cm
):
    job_id, member = assigned_job(app, client, customer, cm, method="pm_card_chargeDeclined")
    save_method(client, customer, "pm_card_chargeDeclined")  # the same card: not tried again
    drain_background(app)
    assert (payment(job_id).status, payment(job_id).authorize_attempt) == ("failed", 1)

    save_method(client, customer, "pm_card_visa")
    drain_background(app)
    retried = payment(job_id)
    assert (retried.status, retried.authorize_attempt) == ("authorized", 2)
    assert provider_calls(f"job-{job_id}-authorize-2") == 1
    complete(app, client, member, job_id)
    confirm(app, client, customer, job_id)
    assert provider_calls(f"job-{job_id}-capture-2") == 1
    assert payment(job_id).status == "captured"


def test_a_member_withdrawing_keeps_the_authorisation_for_the_next(app, client, customer, cm):
    job_id, first = assigned_job(app, client, customer, cm)
    withdrew = client.post(
        f"/api/v1/me/jobs/{job_id}/cancel", json={"reason": "Ill"}, headers=first.headers
    )
    assert withdrew.status_code == 200, withdrew.get_json()
    drain_background(app)
    second = active_member()
    assign(app, client, cm, job_id, second)
    assert payment(job_id).status == "authorized"
    assert provider_calls(f"job-{job_id}-authorize") == 1
    complete(app, client, second, job_id)
    confirm(app, client, customer, job_id)
    [settlement] = transactions(job_id)
    assert lines(settlement)[f"member:{second.profile_id}:payable"] == -9600


# --- cancellation ---------------------------------------------------------------------------


def test_a_free_cancellation_releases_the_authorisation(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)  # starts in two days: no fee
    cancelled = cancel(app, client, customer, job_id)
    assert cancelled["cancellation"]["fee_amount"] == 0
    released = payment(job_id)
    assert (released.status, released.amount_captured) == ("cancelled", 0)
    assert db.session.get(OfflinePayment, released.provider_payment_id).status == "canceled"
    assert provider_calls(f"job-{job_id}-cancel") == 1
    assert transactions(job_id) == []


def test_a_staff_cancellation_in_progress_releases_it_too(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm, windows=soon_window())
    client.post(f"/api/v1/me/jobs/{job_id}/start", headers=member.headers)
    cancelled = cancel(app, client, cm, job_id, staff=True)
    assert cancelled["cancellation"]["fee_amount"] == 0
    assert payment(job_id).status == "cancelled"
    assert transactions(job_id) == []


def test_a_late_cancellation_captures_exactly_the_fee_and_splits_it(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm, windows=soon_window())
    cancelled = cancel(app, client, customer, job_id)
    assert cancelled["cancellation"]["fee_amount"] == 2400  # 20 % of 120.00

    charged = payment(job_id)
    assert (charged.status, charged.amount_authorized, charged.amount_captured) == (
        "captured",
        12000,
        2400,
    )
    assert charged.settlement_kind == "cancellation_fee"
    intent = db.session.get(OfflinePayment, charged.provider_payment_id)
    assert (intent.status, intent.amount_captured) == ("succeeded", 2400)  # the rest released
    [fee] = transactions(job_id)
    assert (fee.key, fee.kind) == (f"job-{job_id}-cancellation-fee", "cancellation_fee")
    # The member's plan takes its 20 % of the fee; the member keeps the rest for the slot.
    assert lines(fee) == {
        "clearing:payments": 2400,
        "platform:fees": -480,
        f"member:{member.profile_id}:payable": -1920,
    }
    assert tasks.cancel_job_payment(job_id) == "captured"
    assert len(transactions(job_id)) == 1


def test_a_statement_lists_the_platforms_share_of_a_late_cancellation_fee_under_fees(
    app, client, customer, cm
):
    job_id, member = assigned_job(app, client, customer, cm, windows=soon_window())
    cancel(app, client, customer, job_id)
    response = client.get("/api/v1/me/statements", headers=member.headers)
    assert response.status_code == 200, response.get_json()
    [eur] = [c for c in response.get_json()["currencies"] if c["currency"] == "EUR"]
    assert (eur["gross"], eur["cancellation_fees"]) == (2400, 2400)
    assert (eur["commission"], eur["fees"], eur["net"]) == (0, 480, 1920)
    assert eur["net"] == eur["gross"] - eur["commission"] - eur["fees"] - eur["refunds"]


def test_a_late_cancellation_without_an_authorisation_records_the_uncollected_fee(
    app, client, customer, cm
):
    job_id, _ = assigned_job(app, client, customer, cm, method=None, windows=soon_window())
    cancel(app, client, customer, job_id)
    row = payment(job_id)
    assert row.status == "cancelled"
    assert "2400 was not collected" in row.last_error
    assert transactions(job_id) == []


def test_cancelling_while_the_authorisation_is_queued_never_authorises(
    app, client, customer, cm, monkeypatch
):
    # The authorisation task has not run yet (say Redis was slow) when the customer cancels.
    save_method(client, customer)
    member = active_member()
    job_id = post_job(app, client, customer)
    with monkeypatch.context() as patched:
        patched.setattr(job_money.payments, "enqueue", lambda *a, **kw: None)
        assign(app, client, cm, job_id, member)
        cancel(app, client, customer, job_id)
    assert tasks.cancel_job_payment(job_id) == "cancelled"
    assert tasks.authorize_job_payment(job_id) == "cancelled"
    db.session.commit()
    assert provider_calls(f"job-{job_id}-authorize") == 0


# --- reading --------------------------------------------------------------------------------


def test_the_customer_sees_amounts_but_not_the_split(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    shown = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers)
    assert shown.status_code == 200
    body = shown.get_json()
    assert body["status"] == "captured"
    assert (body["amount_authorized"], body["amount_captured"], body["amount_refunded"]) == (
        12000,
        12000,
        0,
    )
    assert "commission_amount" not in body and "member_earning" not in body


def test_the_member_sees_only_their_earning_and_the_commission(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    body = client.get(f"/api/v1/jobs/{job_id}/payment", headers=member.headers).get_json()
    commission = body.pop("commission")
    assert body == {
        "job_id": job_id,
        "status": "captured",
        "currency": "EUR",
        "member_earning": 9600,
    }
    assert (commission["amount"], commission["member_earning"], commission["price"]) == (
        2400,
        9600,
        12000,
    )
    assert commission["estimate"] is False and commission["plan_cause"] == "standard"
    assert commission["why"] == (
        "20 % of the price on the plan Standard 20 %: every member without another plan is on "
        "the standard plan."
    )


def test_staff_see_the_split_and_the_provider_side(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    body = client.get(f"/api/v1/jobs/{job_id}/payment", headers=cm.headers).get_json()
    assert (body["commission_amount"], body["member_earning"], body["plan_code"]) == (
        2400,
        9600,
        "standard",
    )
    assert body["member_id"] == member.profile_id
    assert body["transfer_group"] == f"job-{job_id}"
    assert body["provider"] == "offline" and body["dispute"] is None


def test_a_job_before_assignment_shows_a_pending_payment(app, client, customer):
    job_id = post_job(app, client, customer)
    body = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers).get_json()
    assert (body["status"], body["amount_authorized"], body["refunds"]) == ("pending", 0, [])


def test_a_job_payment_is_hidden_from_everyone_else(app, client, customer, other_customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    stranger = active_member()
    path = f"/api/v1/jobs/{job_id}/payment"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=other_customer.headers).status_code == 404
    assert client.get(path, headers=stranger.headers).status_code == 404
    missing = client.get(f"/api/v1/jobs/{job_id + 1000}/payment", headers=cm.headers)
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"


def test_a_payment_written_in_this_unit_of_work_is_served_until_a_rollback(app, client, customer):
    """payment_of answers a payment _ensure_payment just wrote without asking the database —
    and not once a rollback has undone it."""
    from payouts.job_money import payments

    job_id = post_job(app, client, customer)  # its payment comes with the assignment here
    job = db.session.get(Job, job_id)
    assert payments.payment_of(job_id) is None
    created = payments._ensure_payment(job)
    assert payments.payment_of(job_id) is created  # pending, not flushed yet
    db.session.flush()
    assert payments.payment_of(job_id) is created

    db.session.rollback()

    assert payments.payment_of(job_id) is None
