"""What a proposal would give each party, before it is proposed: the same checks and amounts
as `propose` (support.resolutions.money) and the same proportional reversal of the split as
the refund that carries it (payouts.job_money.refunds.apply_refund)."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.models import Job
from payouts import job_money
from payouts.job_money.views import commission_view
from payouts.models.job_payments import JobPayment, JobRefund
from payouts.rounding import prorate
from support.errors import TicketNotAboutJob
from support.resolutions.money import check_money, proposed_refund
from support.tickets.access import ticket_for


def preview(
    *,
    actor: Principal,
    ticket_id: int,
    kind: str,
    refund_amount: int | None = None,
    customer_share_percent: int | None = None,
    goodwill_amount: int | None = None,
) -> dict:
    """What the customer gets back, what the member keeps and what the platform keeps or pays
    if the proposal applied now; refused exactly as `propose` would refuse it (409/422)."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))
    ticket, _unused = ticket_for(actor, ticket_id)
    job = db.session.get(Job, ticket.job_id) if ticket.job_id is not None else None
    if job is None:
        raise TicketNotAboutJob(
            _("This ticket is not about a job: there is nothing to settle."), state=ticket.status
        )
    if kind == "goodwill" and goodwill_amount is None:
        raise field_error("goodwill_amount", _("required for goodwill"))
    goodwill = goodwill_amount if kind == "goodwill" else 0
    payment = job_money.payment_of(job.id)
    refund = check_money(
        kind,
        job,
        payment,
        refund=proposed_refund(kind, job, refund_amount, customer_share_percent),
        goodwill=goodwill,
    )
    return shares(kind, job, payment, refund=refund, goodwill=goodwill)


def _refunded_of_split(payment: JobPayment) -> int:
    """Refunds made or under way that reverse the split (goodwill credits do not)."""
    rows = db.session.scalars(
        select(JobRefund).where(
            JobRefund.job_payment_id == payment.id, JobRefund.status.in_(("pending", "succeeded"))
        )
    )
    return sum(row.amount for row in rows if not job_money.is_goodwill(row))


def shares(kind: str, job: Job, payment: JobPayment | None, *, refund: int, goodwill: int) -> dict:
    """Each party's money if a proposal of `refund` and `goodwill` (checked) applied now."""
    view = {
        "kind": kind,
        "currency": job.currency,
        "price": job.price_amount,
        "refund_amount": refund,
        "goodwill_amount": goodwill,
    }
    cancel = kind == "full_refund" and job.status == "disputed" and job.confirmed_at is None
    member_id = (payment.member_id if payment else None) or job.assigned_member_id
    if cancel or member_id is None:
        # Never captured: the job is cancelled and nobody is charged or paid.
        view |= {
            "cancels_job": True,
            "customer_pays": 0,
            "customer_gets_back": 0,
            "member_earning_before": 0,
            "member_gives_up": 0,
            "member_earning_after": 0,
            "platform_commission_before": 0,
            "platform_commission_after": 0,
            "platform_goodwill_cost": 0,
        }
        return view
    commission = commission_view(job, payment, member_id)
    settled = payment is not None and payment.settlement_transaction_id is not None
    captured = payment.amount_captured if settled else job.price_amount
    share = commission["amount"]
    before = _refunded_of_split(payment) if payment is not None else 0
    after = before + refund
    platform_before = share - prorate(share, before, captured)
    platform_after = share - prorate(share, after, captured)
    earning_before = (captured - share) - (before - (share - platform_before))
    member_part = refund - (platform_before - platform_after)
    view |= {
        "cancels_job": False,
        "customer_pays": captured - after - goodwill,
        "customer_gets_back": refund + goodwill,
        "member_earning_before": earning_before,
        "member_gives_up": member_part,
        "member_earning_after": earning_before - member_part,
        "platform_commission_before": platform_before,
        "platform_commission_after": platform_after,
        "platform_goodwill_cost": goodwill,
        "commission_estimate": commission["estimate"],
    }
    return view
