"""Reading a job's payment as each party may see it, and open disputes for the payout run."""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job
from members.models import Member
from payouts.job_money.payments import payment_of, saved_method
from payouts.models.job_payments import JobPayment, JobRefund
from payouts.plans import commission_for


def _refund_view(refund: JobRefund, *, staff: bool) -> dict:
    view = {
        "id": refund.id,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        "created_at": refund.created_at,
        "refunded_at": refund.refunded_at,
    }
    if staff:
        view |= {
            "source": refund.source,
            "key": refund.key,
            "provider_refund_id": refund.provider_refund_id,
            "ledger_transaction_id": refund.ledger_transaction_id,
            "commission_part": refund.commission_part,
            "member_part": refund.member_part,
            "member_receivable": refund.member_receivable,
            "last_error": refund.last_error,
        }
    return view


def _own_id(actor: Principal, model) -> int | None:
    return db.session.scalar(select(model.id).where(model.user_id == actor.user_id))


def payment_statuses(*, actor: Principal, job_ids: list[int]) -> dict[int, str]:
    """Staff's list view: the payment status of each job (`pending` before there is a
    payment), in one query — the status `payment_view` shows for each."""
    if not actor.is_staff:
        raise NotFound(_("No such job."))
    found = dict(
        db.session.execute(
            select(JobPayment.job_id, JobPayment.status).where(JobPayment.job_id.in_(job_ids))
        ).all()
    )
    return {job_id: found.get(job_id, "pending") for job_id in job_ids}


def payment_view(*, actor: Principal, job_id: int) -> dict:
    """A job's payment as `actor` may see it: staff all of it, the customer what they pay and
    get back, the assigned member their earning; anyone else gets 404."""
    job = db.session.get(Job, job_id)
    payment = payment_of(job_id) if job is not None else None
    if job is None:
        raise NotFound(_("No such job."))
    if actor.role == "member":
        member_id = _own_id(actor, Member)
        mine = member_id is not None and member_id in (
            job.assigned_member_id,
            payment.member_id if payment else None,
        )
        if not mine:
            raise NotFound(_("No such job."))
        return {
            "job_id": job.id,
            "status": payment.status if payment else "pending",
            "currency": job.currency,
            "member_earning": payment.member_earning if payment else None,
            "commission": commission_view(job, payment, member_id),
        }
    owner = actor.role == "customer" and job.customer_id == _own_id(actor, Customer)
    if not actor.is_staff and not owner:
        raise NotFound(_("No such job."))
    view = {
        "job_id": job.id,
        "status": payment.status if payment else "pending",
        "currency": job.currency,
        "price_amount": job.price_amount,
        "amount_authorized": payment.amount_authorized if payment else 0,
        "amount_captured": payment.amount_captured if payment else 0,
        "amount_refunded": payment.amount_refunded if payment else 0,
        "payment_method_on_file": saved_method(job.customer_id) is not None,
        "failure_code": payment.failure_code if payment else None,
        "last_error": payment.last_error if payment else None,
        "authorized_at": payment.authorized_at if payment else None,
        "captured_at": payment.captured_at if payment else None,
        "authorization_expires_at": payment.authorization_expires_at if payment else None,
        "invoice_due_at": payment.invoice_due_at if payment else None,
        "next_action": None,
        "refunds": [],
    }
    if payment is not None and payment.status == "requires_action":
        # What the customer's client needs to authenticate (stripe.handleNextAction, or
        # stripe.confirmPayment for confirm_payment): the client secret is theirs alone.
        view["next_action"] = {"type": payment.next_action_type}
        if owner:
            view["next_action"]["client_secret"] = payment.client_secret
    if payment is not None:
        refunds = db.session.scalars(
            select(JobRefund).where(JobRefund.job_payment_id == payment.id).order_by(JobRefund.id)
        )
        view["refunds"] = [_refund_view(r, staff=actor.is_staff) for r in refunds]
    if actor.is_staff and payment is not None:
        view |= {
            "member_id": payment.member_id,
            "organisation_id": payment.organisation_id,
            "provider": payment.provider,
            "provider_payment_id": payment.provider_payment_id,
            "transfer_group": payment.transfer_group,
            "authorize_attempt": payment.authorize_attempt,
            "superseded_payment_id": payment.superseded_payment_id,
            "settlement_kind": payment.settlement_kind,
            "commission_amount": payment.commission_amount,
            "member_earning": payment.member_earning,
            "plan_code": payment.plan_code,
            "settlement_transaction_id": payment.settlement_transaction_id,
            "dispute": _dispute_view(payment),
        }
    if actor.is_staff:
        member_id = payment.member_id if payment else None
        member_id = member_id or job.assigned_member_id
        view["commission"] = commission_view(job, payment, member_id) if member_id else None
    return view


def commission_view(job: Job, payment: JobPayment | None, member_id: int) -> dict:
    """The commission on the member's job and why: as booked when the payment settled, else
    what the member's plan would take if the job were confirmed now (`estimate`)."""
    if payment is not None and payment.settlement_transaction_id is not None:
        breakdown = payment.commission_breakdown or {"plan": payment.plan_code}
        amount, earning, estimate = payment.commission_amount, payment.member_earning, False
    else:
        commission = commission_for(
            job.price_amount,
            job.currency,
            member_id,
            utcnow(),
            organisation_id=job.organisation_id,
        )
        breakdown = commission.breakdown
        amount, earning, estimate = commission.amount, commission.earning, True
    return {
        "estimate": estimate,
        "amount": amount,
        "member_earning": earning,
        "price": breakdown.get("price", job.price_amount),
        "plan_code": breakdown.get("plan"),
        "plan_name": breakdown.get("plan_name"),
        "rule": breakdown.get("rule"),
        "percent_bp": breakdown.get("applied_bp"),
        "discount_bp": breakdown.get("discount_bp", 0),
        "fixed_fee": breakdown.get("fixed_fee"),
        "plan_since": breakdown.get("plan_since"),
        "plan_cause": breakdown.get("plan_cause"),
        "why": _why(breakdown),
    }


def _why(breakdown: dict) -> str:
    """One sentence for the member: the plan, its rate, the perk, and how they got the plan."""
    name = breakdown.get("plan_name") or breakdown.get("plan") or "your plan"
    if breakdown.get("rule") == "fixed_fee":
        rate = f"a fixed fee of {breakdown.get('fixed_fee')} minor units"
    elif breakdown.get("applied_bp") is not None:
        rate = f"{_percent(breakdown['applied_bp'])} of the price"
    else:
        rate = "the plan's commission"
    text = f"{rate} on the plan {name}"
    if breakdown.get("discount_bp"):
        perk = breakdown.get("perk_reason") or "a perk"
        text += f" ({_percent(breakdown['base_bp'])} less {_percent(breakdown['discount_bp'])}"
        text += f" for {perk})"
    if breakdown.get("rule") == "standard_percentage_other_currency":
        text += f", the standard rate because the plan's fee is in {breakdown.get('fee_currency')}"
    reason = breakdown.get("plan_reason")
    return f"{text[0].upper()}{text[1:]}: {reason}." if reason else f"{text[0].upper()}{text[1:]}."


def _percent(bp: int) -> str:
    whole, rest = divmod(bp, 100)
    return f"{whole} %" if not rest else f"{whole}.{rest:02d}".rstrip("0") + " %"


def _dispute_view(payment: JobPayment) -> dict | None:
    if payment.dispute_id is None:
        return None
    return {
        "id": payment.dispute_id,
        "status": payment.dispute_status,
        "reason": payment.dispute_reason,
        "amount": payment.dispute_amount,
        "open": payment.dispute_open,
        "created_at": payment.disputed_at,
        "closed_at": payment.dispute_closed_at,
    }


def open_dispute_member_ids(member_ids: list[int] | None = None) -> set[int]:
    """Members with a chargeback open on a job's payment, or a job of theirs in `disputed`
    (for the payout run, which holds their payouts)."""
    member = func.coalesce(JobPayment.member_id, Job.assigned_member_id)
    chargebacks = (
        select(member)
        .select_from(JobPayment)
        .join(Job, Job.id == JobPayment.job_id)
        .where(JobPayment.dispute_id.is_not(None), JobPayment.dispute_closed_at.is_(None))
    )
    disputed_jobs = select(Job.assigned_member_id).where(
        Job.status == "disputed", Job.assigned_member_id.is_not(None)
    )
    if member_ids is not None:
        chargebacks = chargebacks.where(member.in_(member_ids))
        disputed_jobs = disputed_jobs.where(Job.assigned_member_id.in_(member_ids))
    return set(db.session.scalars(chargebacks)) | set(db.session.scalars(disputed_jobs))
