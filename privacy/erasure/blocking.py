"""What keeps an account from being erased yet, each as {kind, id}.

Erasure waits until nothing the other party, the law or the money still needs from the person
is under way:

- `job`: a job of theirs that is not finished — a customer's open, offered, assigned, in
  progress or completed (awaiting confirmation) job; a member's assigned, in progress or
  completed one;
- `dispute`: a disputed job of theirs, or an open dispute ticket about them;
- `ticket`: any other ticket about them or opened by them that is not resolved or closed;
- `chargeback`: a card dispute (the customer's bank) on a payment of their jobs, not closed;
- money in transit (payouts' states):
  - `payment`: a job payment held or authorised and not yet released or captured (pending,
    requires_action, authorized), or captured / invoiced for a confirmed job (or a late fee)
    but not yet settled in the ledger;
  - `refund`: a refund of their jobs' payments still pending at the provider;
  - `payout`: a payout of theirs pending, in transit at the bank or held;
  - `balance`: a ledger account of theirs with a balance: a member's payable (earnings not
    yet paid out) or receivable (a fee they owe), a customer's receivable (billed, not paid).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from crowd.extensions import db
from jobs.models import Job
from payouts.ledger import account_code_for_member
from payouts.models import JobPayment, JobRefund, LedgerAccount, Payout
from privacy.erasure import companies
from support.models import Ticket

# A member's jobs that still need them; a customer's also before a member took them.
MEMBER_ACTIVE_JOBS = ("assigned", "in_progress", "completed")
CUSTOMER_ACTIVE_JOBS = ("open", "offered", "assigned", "in_progress", "completed")
CLOSED_TICKETS = ("resolved", "closed")
PAYOUTS_IN_TRANSIT = ("pending", "in_transit", "held")
HELD_PAYMENTS = ("pending", "requires_action", "authorized")


def blocking(*, user_id: int, member_id: int | None, customer_id: int | None) -> list[dict]:
    """Everything that blocks the erasure, ordered by kind then id; empty: it may go ahead."""
    found: list[dict] = []
    found += _jobs(member_id, customer_id)
    found += _tickets(user_id, member_id, customer_id)
    found += _payments(member_id, customer_id)
    if member_id is not None:
        found += [
            {"kind": "payout", "id": payout_id}
            for payout_id in db.session.scalars(
                select(Payout.id)
                .where(Payout.member_id == member_id, Payout.status.in_(PAYOUTS_IN_TRANSIT))
                .order_by(Payout.id)
            )
        ]
    found += _balances(member_id, customer_id)
    found += companies.blocking(member_id)
    return found


def _jobs(member_id: int | None, customer_id: int | None) -> list[dict]:
    parts = []
    if member_id is not None:
        parts.append(
            and_(
                Job.assigned_member_id == member_id,
                Job.status.in_((*MEMBER_ACTIVE_JOBS, "disputed")),
            )
        )
    if customer_id is not None:
        parts.append(
            and_(
                Job.customer_id == customer_id, Job.status.in_((*CUSTOMER_ACTIVE_JOBS, "disputed"))
            )
        )
    if not parts:
        return []
    rows = db.session.execute(select(Job.id, Job.status).where(or_(*parts)).order_by(Job.id))
    return [
        {"kind": "dispute" if status == "disputed" else "job", "id": job_id}
        for job_id, status in rows
    ]


def _tickets(user_id: int, member_id: int | None, customer_id: int | None) -> list[dict]:
    about = [Ticket.opened_by_id == user_id]
    if member_id is not None:
        about.append(Ticket.member_id == member_id)
    if customer_id is not None:
        about.append(Ticket.customer_id == customer_id)
    rows = db.session.execute(
        select(Ticket.id, Ticket.dispute)
        .where(or_(*about), Ticket.status.not_in(CLOSED_TICKETS))
        .order_by(Ticket.id)
    )
    # A dispute ticket names the ticket (the job's dispute is named by the job, kind `dispute`
    # too: a client shows both).
    return [
        {"kind": "dispute" if dispute else "ticket", "id": ticket_id} for ticket_id, dispute in rows
    ]


def _their_payments(member_id: int | None, customer_id: int | None):
    parts = []
    if member_id is not None:
        parts += [JobPayment.member_id == member_id, Job.assigned_member_id == member_id]
    if customer_id is not None:
        parts.append(JobPayment.customer_id == customer_id)
    return or_(*parts) if parts else None


def _payments(member_id: int | None, customer_id: int | None) -> list[dict]:
    theirs = _their_payments(member_id, customer_id)
    if theirs is None:
        return []
    base = select(JobPayment.id).join(Job, Job.id == JobPayment.job_id).where(theirs)
    unsettled = and_(
        JobPayment.status.in_(("captured", "invoiced")),
        JobPayment.settlement_transaction_id.is_(None),
        or_(Job.confirmed_at.is_not(None), Job.cancellation_fee_amount > 0),
    )
    found = [
        {"kind": "payment", "id": payment_id}
        for payment_id in db.session.scalars(
            base.where(or_(JobPayment.status.in_(HELD_PAYMENTS), unsettled)).order_by(JobPayment.id)
        )
    ]
    found += [
        {"kind": "chargeback", "id": payment_id}
        for payment_id in db.session.scalars(
            base.where(
                JobPayment.dispute_id.is_not(None), JobPayment.dispute_closed_at.is_(None)
            ).order_by(JobPayment.id)
        )
    ]
    found += [
        {"kind": "refund", "id": refund_id}
        for refund_id in db.session.scalars(
            select(JobRefund.id)
            .join(JobPayment, JobPayment.id == JobRefund.job_payment_id)
            .join(Job, Job.id == JobPayment.job_id)
            .where(theirs, JobRefund.status == "pending")
            .order_by(JobRefund.id)
        )
    ]
    return found


def _balances(member_id: int | None, customer_id: int | None) -> list[dict]:
    codes = []
    if member_id is not None:
        codes += [account_code_for_member(member_id), f"member:{member_id}:receivable"]
    if customer_id is not None:
        codes.append(f"customer:{customer_id}:receivable")
    if not codes:
        return []
    rows = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.currency)
        .where(LedgerAccount.code.in_(codes), LedgerAccount.balance != 0)
        .order_by(LedgerAccount.id)
    )
    return [
        {"kind": "balance", "id": account_id, "account": code, "currency": currency}
        for account_id, code, currency in rows
    ]
