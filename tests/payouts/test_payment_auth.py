"""No work without an authorised payment: 3-D Secure waits for the customer, holds are renewed
before they lapse, a failed authorisation pauses dispatch, invoiced customers pass on terms.

The Stripe cases run the real SDK against tests/stripe_fake.py; the others the offline provider.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job, Offer
from notifications.models import Notification
from payouts import job_money, ledger
from payouts.job_money import reauthorise
from payouts.models import OfflineProviderCall
from payouts.tasks import job_money as tasks
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import (
    assign,
    complete,
    confirm,
    lines,
    payment,
    post_job,
    save_method,
    transactions,
)
from tests.stripe_fake import post_event, stripe_event

pytestmark = pytest.mark.usefixtures("ledger_sound")

THREE_DS = "pm_card_threeDSecure2Required"
INTENTS = r"/v1/payment_intents"


@pytest.fixture(autouse=True)
def authorise_before_dispatch(app, monkeypatch):
    """The rule as deployed (the shared test settings turn it off for the other tests)."""
    monkeypatch.setitem(app.config, "JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH", True)


def offers(job_id: int, status: str | None = None) -> list[Offer]:
    db.session.expire_all()
    query = select(Offer).where(Offer.job_id == job_id)
    if status:
        query = query.where(Offer.status == status)
    return list(db.session.scalars(query))


def notices(user_id: int, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        )
    )


def view(client, actor, job_id: int):
    return client.get(f"/api/v1/jobs/{job_id}/payment", headers=actor.headers)


def deliver(app, client, type_: str, intent: dict) -> dict:
    response = post_event(client, stripe_event(type_, intent, created=int(time.time())))
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    return response.get_json()


def expiring(job_id: int, *, hours: float = 1) -> None:
    """The job's hold lapses in `hours` (as if it had been authorised days ago)."""
    row = payment(job_id)
    row.authorization_expires_at = utcnow() + timedelta(hours=hours)
    db.session.commit()


def provider_calls(key: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OfflineProviderCall)
        .where(OfflineProviderCall.idempotency_key == key)
    )


# --- 3-D Secure with Stripe ------------------------------------------------------------------


@pytest.mark.usefixtures("stripe_settings")
def test_a_job_needing_3ds_gets_no_offer_until_the_customer_authenticates(
    app, client, customer, stripe_fake
):
    member = active_member()
    assert save_method(client, customer, THREE_DS).status_code == 200
    job_id = post_job(app, client, customer)

    waiting = payment(job_id)
    assert waiting.status == "requires_action"
    assert offers(job_id) == [] and db.session.get(Job, job_id).status == "open"
    intent_id = waiting.provider_payment_id
    # Stripe declined the off-session attempt with authentication_required; the customer's
    # client confirms the intent on-session with its client secret.
    shown = view(client, customer, job_id).get_json()
    assert shown["status"] == "requires_action"
    assert shown["next_action"] == {
        "type": "confirm_payment",
        "client_secret": stripe_fake.payment_intents[intent_id]["client_secret"],
    }
    [notice] = notices(customer.user_id, "payment.action_required")
    assert notice.data["job_id"] == job_id
    # The sweep does not push it either: it waits for the customer.
    drain_background(app)
    assert offers(job_id) == []

    intent = stripe_fake.complete_authentication(intent_id)
    deliver(app, client, "payment_intent.amount_capturable_updated", intent)

    authorised = payment(job_id)
    assert (authorised.status, authorised.amount_authorized) == ("authorized", 12000)
    assert (authorised.client_secret, authorised.next_action_type) == (None, None)
    assert authorised.authorization_expires_at is not None
    assert [o.member_id for o in offers(job_id)] == [member.profile_id]
    assert view(client, customer, job_id).get_json()["next_action"] is None


@pytest.mark.usefixtures("stripe_settings")
def test_a_failed_authentication_pauses_dispatch_and_tells_the_customer(
    app, client, customer, cm, stripe_fake
):
    active_member()
    assert save_method(client, customer, "pm_card_authenticationRequired").status_code == 200
    job_id = post_job(app, client, customer)
    intent = stripe_fake.complete_authentication(payment(job_id).provider_payment_id, succeed=False)
    deliver(app, client, "payment_intent.payment_failed", intent)

    failed = payment(job_id)
    assert (failed.status, failed.failure_code) == (
        "failed",
        "payment_intent_authentication_failure",
    )
    assert failed.client_secret is None
    assert offers(job_id) == []
    [notice] = notices(customer.user_id, "payment.failed")
    assert notice.data["job_id"] == job_id
    held = client.post(f"/api/v1/staff/jobs/{job_id}/dispatch", headers=cm.headers)
    assert held.status_code == 409
    assert held.get_json()["type"] == "https://crowd.example/problems/dispatch-held"


@pytest.mark.usefixtures("stripe_settings")
def test_the_customer_refresh_retrieves_the_intent_and_sends_the_offers(
    app, client, customer, other_customer, stripe_fake
):
    member = active_member()
    assert save_method(client, customer, THREE_DS).status_code == 200
    job_id = post_job(app, client, customer)
    intent_id = payment(job_id).provider_payment_id
    stripe_fake.complete_authentication(intent_id)

    other = client.post(f"/api/v1/jobs/{job_id}/payment/refresh", headers=other_customer.headers)
    assert other.status_code == 404
    response = client.post(f"/api/v1/jobs/{job_id}/payment/refresh", headers=customer.headers)
    assert response.status_code == 202, response.get_json()
    drain_background(app)

    assert stripe_fake.calls("GET", rf"{INTENTS}/{intent_id}")
    assert payment(job_id).status == "authorized"
    assert [o.member_id for o in offers(job_id)] == [member.profile_id]
    # Asking again changes nothing and calls nobody.
    before = len(stripe_fake.calls("GET"))
    again = client.post(f"/api/v1/jobs/{job_id}/payment/refresh", headers=customer.headers)
    assert again.status_code == 202
    drain_background(app)
    assert len(stripe_fake.calls("GET")) == before


# --- 3-D Secure offline (what `make run` users try) ------------------------------------------


def test_offline_3ds_waits_until_a_developer_completes_it(app, client, customer):
    member = active_member()
    assert save_method(client, customer, THREE_DS).status_code == 200
    job_id = post_job(app, client, customer)
    shown = view(client, customer, job_id).get_json()
    assert shown["status"] == "requires_action"
    assert shown["next_action"]["type"] == "use_stripe_sdk"
    assert "_secret_" in shown["next_action"]["client_secret"]
    assert offers(job_id) == []

    result = app.test_cli_runner().invoke(args=["crowd", "authenticate-payment", str(job_id)])
    assert result.exit_code == 0, result.output
    drain_background(app)
    assert payment(job_id).status == "authorized"
    assert [o.member_id for o in offers(job_id)] == [member.profile_id]


def test_offline_3ds_failed_leaves_the_job_on_hold(app, client, customer):
    active_member()
    assert save_method(client, customer, THREE_DS).status_code == 200
    job_id = post_job(app, client, customer)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crowd", "authenticate-payment", str(job_id), "--fail"])
    assert result.exit_code == 0, result.output
    drain_background(app)
    assert payment(job_id).status == "failed"
    assert offers(job_id) == []
    assert notices(customer.user_id, "payment.failed")
    # Nothing waits for authentication any more.
    again = runner.invoke(args=["crowd", "authenticate-payment", str(job_id)])
    assert again.exit_code != 0


def test_the_client_secret_is_the_owning_customers_alone(
    app, client, customer, other_customer, cm, member
):
    active_member()
    assert save_method(client, customer, THREE_DS).status_code == 200
    job_id = post_job(app, client, customer)
    assert view(client, customer, job_id).get_json()["next_action"]["client_secret"]
    assert view(client, other_customer, job_id).status_code == 404
    assert view(client, member, job_id).status_code == 404
    staff = view(client, cm, job_id).get_json()
    assert staff["next_action"] == {"type": "use_stripe_sdk"}
    assert "client_secret" not in str(staff)


# --- renewing holds ---------------------------------------------------------------------------


@pytest.mark.usefixtures("stripe_settings")
def test_a_hold_about_to_lapse_is_renewed_and_the_old_released_once(
    app, client, customer, cm, stripe_fake
):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)
    assign(app, client, cm, job_id, member)
    old = payment(job_id).provider_payment_id
    expiring(job_id)

    assert tasks.renew_job_authorisations() == 1
    db.session.commit()
    drain_background(app)

    renewed = payment(job_id)
    assert (renewed.status, renewed.authorize_attempt) == ("authorized", 2)
    assert renewed.provider_payment_id not in (None, old)
    assert renewed.superseded_payment_id is None
    assert renewed.authorization_expires_at > utcnow() + timedelta(days=6)
    [created] = [c for c in stripe_fake.calls("POST", INTENTS) if c.idempotency_key.endswith("-2")]
    assert created.idempotency_key == f"job-{job_id}-authorize-2"
    [release] = stripe_fake.calls("POST", rf"{INTENTS}/{old}/cancel")
    assert release.idempotency_key == f"job-{job_id}-release-{old}"
    assert stripe_fake.payment_intents[old]["status"] == "canceled"

    # Run twice: nothing is due any more, nothing is sent again.
    assert tasks.renew_job_authorisations() == 0
    assert tasks.reauthorize_job_payment(job_id) == "not_due"
    assert tasks.release_superseded_payment(job_id) == "nothing"
    db.session.commit()
    drain_background(app)
    assert len(stripe_fake.calls("POST", rf"{INTENTS}/{old}/cancel")) == 1
    assert len(stripe_fake.calls("POST", INTENTS)) == 2
    # The renewed hold is captured on confirmation.
    complete(app, client, member, job_id)
    confirm(app, client, customer, job_id)
    assert payment(job_id).status == "captured"
    assert stripe_fake.calls("POST", rf"{INTENTS}/{renewed.provider_payment_id}/capture")


def test_a_hold_that_outlasts_the_capture_is_not_renewed(app, client, customer, cm):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)
    assign(app, client, cm, job_id, member)
    job = db.session.get(Job, job_id)
    # Lapses within the margin, but well after the job's end plus the confirmation window.
    capture_at = reauthorise.expected_capture_at(job)
    row = payment(job_id)
    row.authorization_expires_at = capture_at + timedelta(days=2)
    db.session.commit()
    assert reauthorise.renewal_due(row, job, capture_at + timedelta(days=1, hours=1)) is False
    assert reauthorise.queue_renewals(now=capture_at + timedelta(days=1, hours=1)) == 0
    # A hold lapsing before the capture is.
    row.authorization_expires_at = capture_at - timedelta(hours=1)
    assert reauthorise.renewal_due(row, job, capture_at - timedelta(hours=2))
    db.session.rollback()


@pytest.mark.usefixtures("stripe_settings")
def test_a_lapsed_hold_is_authorised_again(app, client, customer, stripe_fake):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)
    old = payment(job_id).provider_payment_id
    [offer] = offers(job_id)

    deliver(app, client, "payment_intent.canceled", stripe_fake.lapse(old))

    again = payment(job_id)
    assert (again.status, again.authorize_attempt) == ("authorized", 2)
    assert again.provider_payment_id != old
    # The offer out stays out: the job was never without a hold for long.
    assert [o.status for o in offers(job_id)] == ["pending"]
    assert offer.member_id == member.profile_id


def test_a_failed_renewal_withdraws_the_offers_and_tells_the_customer(app, client, customer):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)
    assert len(offers(job_id, "pending")) == 1
    # The card on file now declines.
    assert save_method(client, customer, "pm_card_chargeDeclined").status_code == 200
    expiring(job_id)

    assert tasks.reauthorize_job_payment(job_id) == "failed"
    db.session.commit()
    drain_background(app)

    assert payment(job_id).status == "failed"
    assert [o.status for o in offers(job_id)] == ["withdrawn"]
    assert notices(customer.user_id, "payment.failed")
    assert notices(member.user_id, "offer.withdrawn")
    assert db.session.get(Job, job_id).status == "offered"
    # A good card authorises a third attempt, releases the old hold and sends a new wave.
    other = active_member()
    assert save_method(client, customer).status_code == 200
    drain_background(app)
    renewed = payment(job_id)
    assert (renewed.status, renewed.authorize_attempt, renewed.superseded_payment_id) == (
        "authorized",
        3,
        None,
    )
    assert [o.member_id for o in offers(job_id, "pending")] == [other.profile_id]


def test_a_failed_renewal_of_an_assigned_job_keeps_the_member_and_tells_staff(
    app, client, customer, cm
):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)
    assign(app, client, cm, job_id, member)
    assert save_method(client, customer, "pm_card_chargeDeclined").status_code == 200
    expiring(job_id)

    assert tasks.reauthorize_job_payment(job_id) == "failed"
    db.session.commit()

    job = db.session.get(Job, job_id)
    assert (job.status, job.assigned_member_id) == ("assigned", member.profile_id)
    assert notices(customer.user_id, "payment.failed")
    assert notices(cm.user_id, "payment.held")
    assert view(client, cm, job_id).get_json()["status"] == "failed"


# --- customers invoiced by agreement --------------------------------------------------------


def business() -> object:
    return make_actor("customer", kind="business", company_name="Hausverwaltung Nord GmbH")


def set_billing(client, actor, customer_id: int, **body):
    return client.put(f"/api/v1/customers/{customer_id}/billing", json=body, headers=actor.headers)


def test_an_invoiced_customer_gets_offers_without_authorisation_and_is_billed(app, client, cm):
    company = business()
    response = set_billing(client, cm, company.profile_id, billing="invoice", payment_terms_days=14)
    assert response.status_code == 200, response.get_json()
    agreed = response.get_json()
    assert (agreed["billing"], agreed["payment_terms_days"]) == ("invoice", 14)
    assert agreed["billing_set_by_user_id"] == cm.user_id and agreed["billing_set_at"]

    member = active_member()
    job_id = post_job(app, client, company)  # no payment method on file
    assert payment(job_id).status == "invoiced"
    [offer] = offers(job_id)
    accepted = client.post(f"/api/v1/offers/{offer.id}/accept", headers=member.headers)
    assert accepted.status_code == 200, accepted.get_json()
    drain_background(app)
    complete(app, client, member, job_id)
    confirm(app, client, company, job_id)

    billed = payment(job_id)
    job = db.session.get(Job, job_id)
    assert billed.status == "invoiced" and billed.amount_captured == 0
    assert billed.invoice_due_at == job.confirmed_at + timedelta(days=14)
    [settlement] = transactions(job_id)
    assert lines(settlement) == {
        f"customer:{company.profile_id}:receivable": 12000,
        "platform:revenue": -2400,
        f"member:{member.profile_id}:payable": -9600,
    }
    assert billed.member_earning == 9600
    assert db.session.scalar(select(func.count()).select_from(OfflineProviderCall)) == 0


def test_an_invoiced_job_left_unbilled_is_billed_by_the_sweep(app, client, cm, monkeypatch):
    company = business()
    set_billing(client, cm, company.profile_id, billing="invoice", payment_terms_days=30)
    member = active_member()
    job_id = post_job(app, client, company)
    assign(app, client, cm, job_id, member)
    complete(app, client, member, job_id)
    real_post = ledger.post
    monkeypatch.setattr(ledger, "post", lambda **kw: (_ for _ in ()).throw(RuntimeError("down")))
    confirm(app, client, company, job_id)
    monkeypatch.setattr(ledger, "post", real_post)
    assert transactions(job_id) == []

    assert job_money.sweep(older_than=timedelta(0))["capture"] == 1
    db.session.commit()
    drain_background(app)
    [billed] = transactions(job_id)
    assert lines(billed)[f"customer:{company.profile_id}:receivable"] == 12000


def test_only_staff_agree_invoicing(app, client, customer, member, admin):
    company = business()
    for actor in (customer, company, member):
        response = set_billing(
            client, actor, company.profile_id, billing="invoice", payment_terms_days=30
        )
        assert response.status_code == 403, actor.role
    assert db.session.get(Customer, company.profile_id).billing == "card"
    ok = set_billing(client, admin, company.profile_id, billing="invoice", payment_terms_days=30)
    assert ok.status_code == 200
    back = set_billing(client, admin, company.profile_id, billing="card")
    assert back.get_json()["payment_terms_days"] is None
    assert set_billing(client, admin, 999_999, billing="card").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"billing": "cheque"}, "billing"),
        ({"billing": "invoice"}, "payment_terms_days"),
        ({"billing": "invoice", "payment_terms_days": 0}, "payment_terms_days"),
        ({"billing": "invoice", "payment_terms_days": 121}, "payment_terms_days"),
        ({"billing": "card", "payment_terms_days": 30}, "payment_terms_days"),
        ({"billing": "invoice", "payment_terms_days": "soon"}, "payment_terms_days"),
        ({"payment_terms_days": 30}, "billing"),
        ({"billing": "card", "unknown": 1}, "unknown"),
    ],
)
def test_bad_billing_input_is_a_422_naming_the_field(app, client, cm, body, field):
    company = business()
    response = client.put(
        f"/api/v1/customers/{company.profile_id}/billing", json=body, headers=cm.headers
    )
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in str(response.get_json()["errors"])


def test_a_private_customer_is_not_invoiced(app, client, customer, cm):
    response = set_billing(
        client, cm, customer.profile_id, billing="invoice", payment_terms_days=30
    )
    assert response.status_code == 422
    assert "billing" in response.get_json()["errors"]["json"]


def test_the_openapi_document_describes_each_payment_state(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    status = spec["components"]["schemas"]["JobPayment"]["properties"]["status"]
    assert set(status["enum"]) >= {
        "pending",
        "requires_payment_method",
        "requires_action",
        "authorized",
        "invoiced",
        "captured",
        "failed",
        "cancelled",
    }
    for state in status["enum"]:
        assert f"{state}:" in status["description"]
