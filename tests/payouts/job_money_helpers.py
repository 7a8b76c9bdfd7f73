"""Helpers for the job money tests: walk a job through the API and read its money back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.core.db import utcnow
from crowd.extensions import db
from payouts import ledger
from payouts.models import JobPayment, JobRefund, LedgerTransaction
from payouts.plans import grant_perk
from tests.factories import Actor
from tests.jobs.conftest import active_member, drain_background, future, post_job_via_api

REPORT = {"notes": "Mounted, cables hidden", "minutes_spent": 80, "parts": [], "photo_refs": []}


def save_method(client, customer: Actor, payment_method: str = "pm_card_visa", **extra):
    """PUT the customer's payment method; returns the response."""
    return client.put(
        "/api/v1/me/customer/payment-method",
        json={"payment_method": payment_method, **extra},
        headers=customer.headers,
    )


def post_job(app, client, customer: Actor, **overrides) -> int:
    """Post a job (default body: 120.00 EUR, in two days) and return its id."""
    response = post_job_via_api(client, customer, **overrides)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    return response.get_json()["id"]


def soon_window(hours: float = 10) -> list[dict]:
    """One window starting in `hours` (inside the 24 h late-cancellation window)."""
    start = future(hours)
    return [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=4)).isoformat()}]


def assign(app, client, staff: Actor, job_id: int, member: Actor) -> None:
    """A community manager assigns `member` directly; background work runs."""
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/assign",
        json={"member_id": member.profile_id},
        headers=staff.headers,
    )
    assert response.status_code == 200, response.get_json()
    drain_background(app)


def complete(app, client, member: Actor, job_id: int) -> None:
    """The member starts and completes the job with a work report."""
    started = client.post(f"/api/v1/me/jobs/{job_id}/start", headers=member.headers)
    assert started.status_code == 200, started.get_json()
    done = client.post(f"/api/v1/me/jobs/{job_id}/complete", json=REPORT, headers=member.headers)
    assert done.status_code == 200, done.get_json()
    drain_background(app)


def confirm(app, client, customer: Actor, job_id: int):
    response = client.post(f"/api/v1/jobs/{job_id}/confirm", headers=customer.headers)
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    return response


def cancel(app, client, actor: Actor, job_id: int, *, staff: bool = False):
    path = f"/api/v1/staff/jobs/{job_id}/cancel" if staff else f"/api/v1/jobs/{job_id}/cancel"
    response = client.post(path, json={"reason": "Plans changed"}, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    return response.get_json()


def assigned_job(app, client, customer, cm, member=None, *, method="pm_card_visa", **job):
    """A job with `member` (a fresh active one by default) assigned; returns (job_id, member)."""
    if method:
        assert save_method(client, customer, method).status_code == 200
    member = member or active_member()
    job_id = post_job(app, client, customer, **job)
    assign(app, client, cm, job_id, member)
    return job_id, member


def completed_job(app, client, customer, cm, member=None, **kw):
    job_id, member = assigned_job(app, client, customer, cm, member, **kw)
    complete(app, client, member, job_id)
    return job_id, member


def confirmed_job(app, client, customer, cm, member=None, **kw):
    job_id, member = completed_job(app, client, customer, cm, member, **kw)
    confirm(app, client, customer, job_id)
    return job_id, member


def refund(client, staff: Actor, job_id: int, amount, reason="Customer complaint", **headers):
    return client.post(
        f"/api/v1/staff/jobs/{job_id}/refunds",
        json={"amount": amount, "reason": reason},
        headers={**staff.headers, **headers},
    )


def with_perk(member: Actor, discount_bp: int) -> None:
    grant_perk(
        member_id=member.profile_id,
        discount_bp=discount_bp,
        reason="Top performer",
        valid_from=utcnow() - timedelta(days=1),
    )
    db.session.commit()


# --- reading back ------------------------------------------------------------------------------


def payment(job_id: int) -> JobPayment:
    db.session.expire_all()
    return db.session.scalar(select(JobPayment).where(JobPayment.job_id == job_id))


def refunds(job_id: int) -> list[JobRefund]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(JobRefund).where(JobRefund.job_id == job_id).order_by("id"))
    )


def transactions(job_id: int) -> list[LedgerTransaction]:
    """The job's ledger transactions, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(LedgerTransaction)
            .where(LedgerTransaction.job_id == job_id)
            .order_by(LedgerTransaction.id)
        )
    )


def lines(transaction: LedgerTransaction) -> dict[str, int]:
    """{account code: amount} of a transaction (> 0 debit, < 0 credit)."""
    return {entry.account.code: entry.amount for entry in transaction.entries}


def balance(code: str, currency: str = "EUR") -> int:
    db.session.expire_all()
    return ledger.balance(code, currency)


def outbox(task: str, **kwargs) -> list[OutboxMessage]:
    """Outbox messages of `task` (with these kwargs), oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == task).order_by(OutboxMessage.id)
    )
    return [m for m in rows if all(m.kwargs.get(k) == v for k, v in kwargs.items())]
