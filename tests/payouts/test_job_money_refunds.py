"""Refunds of a job's payment: made once at the provider, the split reversed proportionally to
the minor unit, a member's payable never below zero."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts import job_money, ledger
from payouts.ledger import Line
from payouts.models import JobRefund, OfflineProviderCall, OfflineRefund
from payouts.providers import conflict
from payouts.providers.offline import OfflineProvider
from payouts.tasks import job_money as tasks
from tests.jobs.conftest import drain_background
from tests.payouts.job_money_helpers import (
    assigned_job,
    balance,
    cancel,
    confirmed_job,
    lines,
    payment,
    post_job,
    refund,
    refunds,
    soon_window,
    transactions,
)

pytestmark = pytest.mark.usefixtures("ledger_sound")


def refunded(app, client, staff, job_id, amount, **headers):
    response = refund(client, staff, job_id, amount, **headers)
    assert response.status_code == 202, response.get_json()
    drain_background(app)
    return response.get_json()


def pay_out(member_id: int, amount: int) -> None:
    """What a payout does to the member's payable (the payout run is tested elsewhere)."""
    ledger.post(
        key=f"test-payout-{member_id}-{amount}",
        kind="payout",
        currency="EUR",
        lines=[Line(f"member:{member_id}:payable", amount), Line("payouts:in_transit", -amount)],
        member_id=member_id,
    )
    db.session.commit()


# --- the reversal ---------------------------------------------------------------------------


def test_partial_refunds_reverse_the_split_to_the_exact_minor_unit(app, client, customer, cm):
    # 123.45 at 20 %: the platform kept 24.69, the member earned 98.76.
    job_id, member = confirmed_job(
        app, client, customer, cm, pricing={"kind": "fixed", "amount": 12345}
    )
    payable = f"member:{member.profile_id}:payable"

    first = refunded(app, client, cm, job_id, 1001)
    assert first["status"] == "pending"  # answered before the provider call ran
    refunded(app, client, cm, job_id, 3333)
    assert payment(job_id).status == "partially_refunded"
    refunded(app, client, cm, job_id, 8011)  # the rest

    settlement, *reversals = transactions(job_id)
    # 24.69 × 10.01/123.45 = 2.002 → 2.00; cumulative 43.34 → 8.668 → 8.67, so 6.67; the rest.
    assert [lines(t) for t in reversals] == [
        {"clearing:payments": -1001, "platform:revenue": 200, payable: 801},
        {"clearing:payments": -3333, "platform:revenue": 667, payable: 2666},
        {"clearing:payments": -8011, "platform:revenue": 1602, payable: 6409},
    ]
    assert [(r.commission_part, r.member_part) for r in refunds(job_id)] == [
        (200, 801),
        (667, 2666),
        (1602, 6409),
    ]
    assert [t.key for t in reversals] == [f"job-{job_id}-refund-{n}" for n in (1, 2, 3)]
    done = payment(job_id)
    assert (done.status, done.amount_refunded) == ("refunded", 12345)
    # The split is undone exactly: nothing left anywhere.
    assert balance(payable) == 0
    assert balance("platform:revenue") == 0
    assert balance("clearing:payments") == 0


def test_a_full_refund_reverses_the_whole_split(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    body = refunded(app, client, cm, job_id, 12000, reason="Work not done")
    [row] = refunds(job_id)
    assert (row.id, row.status, row.reason, row.source) == (
        body["id"],
        "succeeded",
        "Work not done",
        "api",
    )
    assert row.provider_refund_id.startswith("off_re_")
    [_, reversal] = transactions(job_id)
    assert reversal.id == row.ledger_transaction_id and reversal.kind == "job_refund"
    assert lines(reversal) == {
        "clearing:payments": -12000,
        "platform:revenue": 2400,
        f"member:{member.profile_id}:payable": 9600,
    }
    assert payment(job_id).status == "refunded"
    assert db.session.scalar(select(func.sum(OfflineRefund.amount))) == 12000


def test_a_refund_after_the_payout_takes_the_rest_from_the_members_receivable(
    app, client, customer, cm
):
    job_id, member = confirmed_job(app, client, customer, cm)
    pay_out(member.profile_id, 5000)  # 46.00 of the 96.00 still owed to them
    refunded(app, client, cm, job_id, 12000)
    [_, reversal] = transactions(job_id)
    assert lines(reversal) == {
        "clearing:payments": -12000,
        "platform:revenue": 2400,
        f"member:{member.profile_id}:payable": 4600,
        f"member:{member.profile_id}:receivable": 5000,
    }
    assert balance(f"member:{member.profile_id}:payable") == 0
    assert balance(f"member:{member.profile_id}:receivable") == 5000
    assert refunds(job_id)[0].member_receivable == 5000


def test_a_refund_of_a_late_cancellation_fee_reverses_the_fee_split(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm, windows=soon_window())
    cancel(app, client, customer, job_id)
    refunded(app, client, cm, job_id, 2400, reason="Goodwill")
    [_, reversal] = transactions(job_id)
    assert lines(reversal) == {
        "clearing:payments": -2400,
        "platform:fees": 480,
        f"member:{member.profile_id}:payable": 1920,
    }


# --- exactly once ---------------------------------------------------------------------------


def test_a_replayed_request_makes_one_refund(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    first = refund(client, cm, job_id, 1000, **{"Idempotency-Key": "refund-a"})
    again = refund(client, cm, job_id, 1000, **{"Idempotency-Key": "refund-a"})
    drain_background(app)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(refunds(job_id)) == 1
    assert len(transactions(job_id)) == 2


def test_the_refund_task_run_twice_refunds_and_posts_once(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    body = refunded(app, client, cm, job_id, 1000)
    assert tasks.refund_job_payment(body["id"]) == "succeeded"
    db.session.commit()
    key = f"job-{job_id}-refund-1"
    calls = select(func.count()).where(OfflineProviderCall.idempotency_key == key)
    assert db.session.scalar(calls) == 1
    assert len(transactions(job_id)) == 2


def test_a_refund_the_provider_refuses_is_failed_and_frees_the_amount(
    app, client, customer, cm, monkeypatch
):
    job_id, _ = confirmed_job(app, client, customer, cm)

    def refuses(self, payment_id, **kw):
        raise conflict("This charge is disputed.", "charge_disputed")

    with monkeypatch.context() as patched:
        patched.setattr(OfflineProvider, "refund", refuses)
        refunded(app, client, cm, job_id, 12000)
    [row] = refunds(job_id)
    assert (row.status, row.last_error) == ("failed", "This charge is disputed.")
    assert len(transactions(job_id)) == 1
    assert payment(job_id).status == "captured"
    refunded(app, client, cm, job_id, 12000)  # the whole amount can be asked for again
    assert payment(job_id).status == "refunded"


# --- refused --------------------------------------------------------------------------------


def test_over_refunding_is_a_409_naming_the_amount(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    refunded(app, client, cm, job_id, 10000)
    response = refund(client, cm, job_id, 2001)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["errors"] == {"json": {"amount": ["must be at most 2000"]}}
    assert body["refundable"] == 2000 and body["state"] == "partially_refunded"
    assert body["type"] == "https://crowd.example/problems/refund-too-large"
    refunded(app, client, cm, job_id, 2000)
    nothing_left = refund(client, cm, job_id, 1)
    assert nothing_left.status_code == 409 and nothing_left.get_json()["refundable"] == 0


def test_refunds_under_way_count_against_what_is_left(app, client, customer, cm, monkeypatch):
    job_id, _ = confirmed_job(app, client, customer, cm)
    monkeypatch.setattr(job_money.refunds, "enqueue", lambda *a, **kw: None)
    assert refund(client, cm, job_id, 7000).status_code == 202  # pending: not made yet
    response = refund(client, cm, job_id, 6000)
    assert response.status_code == 409 and response.get_json()["refundable"] == 5000


def test_refunding_before_capture_is_a_409(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    response = refund(client, cm, job_id, 100)
    assert response.status_code == 409
    assert response.get_json()["state"] == "authorized"
    assert response.get_json()["type"] == "https://crowd.example/problems/nothing-captured"


def test_refunding_a_job_never_assigned_is_a_409(app, client, customer, cm):
    job_id = post_job(app, client, customer)
    response = refund(client, cm, job_id, 100)
    assert response.status_code == 409 and response.get_json()["state"] == "pending"


def test_refunding_a_disputed_payment_is_a_409(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    row = payment(job_id)
    row.dispute_id, row.dispute_status = "dp_1", "needs_response"
    db.session.commit()
    response = refund(client, cm, job_id, 100)
    assert response.status_code == 409 and response.get_json()["state"] == "disputed"
    assert response.get_json()["type"] == "https://crowd.example/problems/payment-disputed"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": -5, "reason": "x"}, "amount"),
        ({"amount": "100", "reason": "x"}, "amount"),
        ({"amount": 10.5, "reason": "x"}, "amount"),
        ({"amount": 100}, "reason"),
        ({"amount": 100, "reason": "   "}, "reason"),
        ({"amount": 100, "reason": "x", "currency": "EUR"}, "currency"),
    ],
)
def test_a_malformed_refund_is_a_422_naming_the_field(app, client, customer, cm, body, field):
    job_id, _ = confirmed_job(app, client, customer, cm)
    response = client.post(f"/api/v1/staff/jobs/{job_id}/refunds", json=body, headers=cm.headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert refunds(job_id) == []


def test_refunds_are_for_staff_only(app, client, customer, cm, admin):
    job_id, member = confirmed_job(app, client, customer, cm)
    assert refund(client, customer, job_id, 100).status_code == 403
    assert refund(client, member, job_id, 100).status_code == 403
    anonymous = client.post(
        f"/api/v1/staff/jobs/{job_id}/refunds", json={"amount": 100, "reason": "x"}
    )
    assert anonymous.status_code == 401
    assert refund(client, admin, job_id + 1000, 100).status_code == 404
    assert refund(client, admin, job_id, 100).status_code == 202
    drain_background(app)
    assert db.session.scalar(select(func.count()).select_from(JobRefund)) == 1
