"""A job payment's chargeback as a state machine: (state, what happened) → next state.

The customer's bank opens a dispute of the charge (charge.dispute.created) and closes it won,
lost or otherwise (charge.dispute.closed; a closing may arrive first, and then the opening
changes nothing). A charge is disputed at most once, so the payment's dispute_* columns hold
the one chargeback; its state follows from them (`state_of`). Every move goes through
`transition()`, which records the dispute (and its evidence deadline) on the payment and emits
`chargeback.<state>`; what follows (the job disputed, confirmed again on a win or, the loss
allocated, on a loss) are payouts.events' subscribers, which call the functions below.
Support's community managers answer with evidence (`submit_evidence`, through the provider).

The money, each posting once by its key, so that nothing is counted twice:
- the bank withdraws the amount and its fee (charge.dispute.funds_withdrawn, a balance
  transaction of the dispute): clearing:payments → clearing:disputes (the amount) and
  platform:provider_fees (the fee); a reinstatement (funds_reinstated, on a win) moves it back;
- a loss allocates the amount by PAYMENTS_CHARGEBACK_LOST_POLICY (the platform, or the member
  up to their earning for the job, the rest the platform) out of clearing:disputes when the
  withdrawal is booked, else straight out of clearing:payments; a withdrawal reported after the
  loss then books only its fee.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden
from crowd.core.events import declare, emit_transition
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.lifecycle import allowed_actions
from jobs.lifecycle import transition as job_transition
from jobs.models import Job, JobEvent
from payouts import ledger
from payouts.config import chargeback_rules
from payouts.errors import EvidenceNotAccepted
from payouts.job_money.payments import CLEARING, earning_accounts, payment_of
from payouts.ledger import Line, account_code_for_member
from payouts.models.job_payments import JobPayment
from payouts.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from payouts.providers import DisputeResult, get_provider

# Stripe's closing statuses with an outcome of their own; any other closing (e.g. a warning
# closed without a chargeback) is `closed`.
OUTCOMES = ("won", "lost")
FINAL = ("won", "lost", "closed")
TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, "open"): "opened",
    **{(state, outcome): outcome for state in (None, "opened") for outcome in FINAL},
}
EVENTS = ("chargeback.opened", "chargeback.won", "chargeback.lost", "chargeback.closed")
declare(*EVENTS)
WITHHELD = "clearing:disputes"
FEES = "platform:provider_fees"
LOSS = "platform:disputes"
POLICIES = ("platform_absorbs", "member_liable")


def state_of(payment: JobPayment) -> str | None:
    """None (no chargeback), opened, or how it closed."""
    if payment.dispute_id is None:
        return None
    if payment.dispute_closed_at is None:
        return "opened"
    return payment.dispute_status if payment.dispute_status in OUTCOMES else "closed"


def action_for(dispute: dict, *, closed: bool) -> str:
    """The move a provider dispute object makes: open, or its outcome."""
    if not closed:
        return "open"
    status = dispute.get("status")
    return status if status in OUTCOMES else "closed"


def transition(payment: JobPayment, action: str, *, dispute: dict, at: datetime) -> str | None:
    """Record the dispute on the (locked) payment and emit `chargeback.<new state>`; None when
    the table has no such move (known already, closed already): then nothing changes."""
    was = state_of(payment)
    target = TRANSITIONS.get((was, action))
    if target is None:
        return None
    payment.dispute_id = dispute.get("id")
    payment.dispute_evidence_due_at = due_by(dispute) or payment.dispute_evidence_due_at
    if action == "open":
        payment.dispute_status = dispute.get("status") or "needs_response"
        payment.dispute_reason = dispute.get("reason")
        payment.dispute_amount = dispute.get("amount")
        payment.disputed_at, payment.dispute_closed_at = at, None
    else:
        payment.dispute_status = dispute.get("status")
        payment.dispute_reason = dispute.get("reason") or payment.dispute_reason
        payment.dispute_amount = dispute.get("amount") or payment.dispute_amount
        payment.disputed_at = payment.disputed_at or at
        payment.dispute_closed_at = at
    emit_transition(
        "chargeback",
        payment.id,
        subject_type="job_payment",
        action=action,
        was=was,
        now=target,
        actor=None,
        occurred_at=at,
        job_id=payment.job_id,
        dispute_id=payment.dispute_id,
        dispute_status=payment.dispute_status,
        reason=payment.dispute_reason,
        amount=payment.dispute_amount,
        currency=payment.currency,
        evidence_due_at=_iso(payment.dispute_evidence_due_at),
    )
    return target


def due_by(dispute: dict) -> datetime | None:
    """Stripe's evidence deadline (evidence_details.due_by, a unix time), if it sent one."""
    details = dispute.get("evidence_details")
    seconds = details.get("due_by") if isinstance(details, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- what follows (payouts.events) ----------------------------------------------------------


def dispute_job(payment: JobPayment) -> None:
    """The job (locked by the caller) goes to `disputed` when its state allows; support's
    subscriber of job.disputed opens the dispute ticket, counts it and tells the member, as for
    a party's dispute. Otherwise the chargeback is only recorded."""
    job = db.session.get(Job, payment.job_id)
    if "dispute" not in allowed_actions(job.status, "customer"):
        return
    reason = f"chargeback: {payment.dispute_reason or 'no reason given'}"
    job_transition(
        job,
        "dispute",
        actor="customer",
        context={"path": "chargeback", "reason": reason, "ticket_id": None},
        reason=reason,
        dispute_id=payment.dispute_id,
    )


def confirm_job(payment: JobPayment, *, action: str = "chargeback_won") -> None:
    """A closed chargeback (won, or lost and allocated) confirms the job again if the
    chargeback is what put it in `disputed` (a dispute opened with support stays for support
    to settle); the subscribers of job.confirmed do the rest, as on any other confirmation,
    and the member's payout is no longer held for it."""
    job = db.session.get(Job, payment.job_id)
    if job.status != "disputed":
        return
    moved_by = db.session.scalar(
        select(JobEvent.detail)
        .where(JobEvent.job_id == job.id, JobEvent.to_status == "disputed")
        .order_by(JobEvent.id.desc())
        .limit(1)
    )
    if (moved_by or {}).get("dispute_id") != payment.dispute_id:
        return
    job_transition(job, action, actor="system", dispute_id=payment.dispute_id)


# --- the money ------------------------------------------------------------------------------


def _posted(key: str) -> bool:
    return (
        db.session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.key == key))
        is not None
    )


def loss_key(dispute_id: str) -> str:
    return f"dispute-{dispute_id}-lost"


def _withdrawal_booked(dispute_id: str) -> bool:
    return (
        db.session.scalar(
            select(LedgerTransaction.id)
            .where(
                LedgerTransaction.kind == "dispute_withdrawn",
                LedgerTransaction.key.startswith(f"dispute-{dispute_id}-bt-"),
            )
            .limit(1)
        )
        is not None
    )


def balance_problem(payment: JobPayment, dispute: dict) -> str | None:
    """Why the dispute's balance transactions cannot be booked, or None."""
    listed = dispute.get("balance_transactions") or []
    if not isinstance(listed, list):
        return "inconsistent: balance_transactions is not a list"
    most = max(payment.amount_captured, payment.amount_authorized)
    for item in listed:
        if not isinstance(item, dict):
            continue  # an unexpanded id: nothing to book from it
        amount, fee = item.get("amount"), item.get("fee", 0)
        if not isinstance(item.get("id"), str) or not item["id"]:
            return "inconsistent: a balance transaction without an id"
        if str(item.get("currency", "")).upper() != payment.currency:
            return f"inconsistent: balance transaction {item['id']} is not in {payment.currency}"
        for value in (amount, fee):
            if isinstance(value, bool) or not isinstance(value, int):
                return f"inconsistent: balance transaction {item['id']} amounts are not integers"
        if amount == 0 or abs(amount) > most or abs(fee) > most:
            return f"inconsistent: balance transaction {item['id']} amount {amount}"
    return None


def book_balance_transactions(payment: JobPayment, dispute: dict) -> int:
    """Book the withdrawals (amount < 0: the amount and Stripe's dispute fee) and the
    reinstatements (amount > 0, with any fee given back) the dispute lists, each once by its
    id; returns how many were booked now. Checked by `balance_problem` first."""
    booked = 0
    dispute_id = dispute["id"]
    for item in dispute.get("balance_transactions") or []:
        if not isinstance(item, dict):
            continue
        key = f"dispute-{dispute_id}-bt-{item['id']}"
        if _posted(key):
            continue
        amount, fee = item["amount"], item.get("fee", 0)
        if amount < 0:
            kind, lines = "dispute_withdrawn", _withdrawal_lines(dispute_id, -amount, fee)
            memo = f"Job {payment.job_id}: chargeback {dispute_id}, funds withdrawn"
        else:
            kind, lines = "dispute_reinstated", _reinstatement_lines(amount, fee)
            memo = f"Job {payment.job_id}: chargeback {dispute_id}, funds reinstated"
        if not lines:
            continue
        ledger.post(
            key=key,
            kind=kind,
            currency=payment.currency,
            lines=lines,
            memo=memo,
            job_id=payment.job_id,
        )
        booked += 1
    return booked


def _withdrawal_lines(dispute_id: str, amount: int, fee: int) -> list[Line]:
    """Out of the platform's balance; a loss booked already took the amount (only the fee)."""
    lines = [] if _posted(loss_key(dispute_id)) else [Line(WITHHELD, amount)]
    if fee > 0:
        lines.append(Line(FEES, fee))
    taken = sum(line.amount for line in lines)
    return [*lines, Line(CLEARING, -taken)] if taken else []


def _reinstatement_lines(amount: int, fee: int) -> list[Line]:
    lines = [Line(WITHHELD, -amount)]
    if fee < 0:  # Stripe gave the dispute fee back
        lines.append(Line(FEES, fee))
    return [*lines, Line(CLEARING, -sum(line.amount for line in lines))]


def member_earning(payment: JobPayment, member_id: int) -> int:
    """What the job earned the member net of refunds: credits less debits of their payable
    in the job's postings (the company's payable when the job settled for a company)."""
    payable = (
        earning_accounts(payment)[0]
        if payment.settlement_transaction_id is not None
        else account_code_for_member(member_id)
    )
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerTransaction.job_id == payment.job_id,
            LedgerAccount.code == payable,
            LedgerAccount.currency == payment.currency,
        )
    )
    return max(0, -int(total or 0))


def book_loss(payment: JobPayment) -> None:
    """Allocate a lost chargeback once (its key), by the policy in force: the platform bears
    it (platform:disputes), or the member up to their earning for the job (from their payable,
    what it cannot cover becomes their receivable) and the platform the rest. The money comes
    out of clearing:disputes when the withdrawal was booked, else out of clearing:payments."""
    amount = payment.dispute_amount
    if not amount or _posted(loss_key(payment.dispute_id)):
        return
    policy = chargeback_rules().lost_policy
    source = WITHHELD if _withdrawal_booked(payment.dispute_id) else CLEARING
    member_id = db.session.scalar(select(Job.assigned_member_id).where(Job.id == payment.job_id))
    lines: list[Line] = []
    taken = 0
    if policy == "member_liable" and member_id is not None:
        taken = min(member_earning(payment, member_id), amount)
        # Whoever the settlement credited bears it: the member, or the company paid for the job.
        if payment.settlement_transaction_id is not None:
            payable, receivable = earning_accounts(payment)
        else:
            payable = account_code_for_member(member_id)
            receivable = f"member:{member_id}:receivable"
        from_payable = min(taken, max(0, ledger.balance(payable, payment.currency)))
        owed = taken - from_payable
        if from_payable:
            lines.append(Line(payable, from_payable))
        if owed:
            lines.append(Line(receivable, owed))
    if amount - taken:
        lines.append(Line(LOSS, amount - taken))
    lines.append(Line(source, -amount))
    ledger.post(
        key=loss_key(payment.dispute_id),
        kind="dispute_lost",
        currency=payment.currency,
        lines=lines,
        memo=f"Job {payment.job_id}: chargeback {payment.dispute_id} lost ({policy})",
        job_id=payment.job_id,
        member_id=member_id if taken else None,
    )


# --- evidence (support's community managers, support.chargebacks) ---------------------------


def submit_evidence(
    job_id: int, *, evidence: dict[str, str], submit: bool, now: datetime
) -> tuple[JobPayment, DisputeResult]:
    """Send evidence for the job's open chargeback through the provider, and with `submit`
    hand it in (once). A closed chargeback, one submitted already or one past its deadline
    takes none: 409. The provider call's key derives from the content, so a retry replays."""
    payment = payment_of(job_id, lock=True)
    if payment is None or payment.dispute_id is None:
        raise EvidenceNotAccepted(_("This job's payment has no chargeback."), state=None)
    state = payment.dispute_status
    if not payment.dispute_open:
        raise EvidenceNotAccepted(
            _(
                "Chargeback {payment_dispute_id} is closed ({state}).",
                payment_dispute_id=payment.dispute_id,
                state=state,
            ),
            state=state,
        )
    if payment.dispute_evidence_submitted_at is not None:
        raise EvidenceNotAccepted(
            _(
                "The evidence for chargeback {payment_dispute_id} was submitted already.",
                payment_dispute_id=payment.dispute_id,
            ),
            state=state,
        )
    due = payment.dispute_evidence_due_at
    if due is not None and now >= due:
        raise EvidenceNotAccepted(
            _(
                "The deadline for evidence on chargeback {payment_dispute_id} has passed.",
                payment_dispute_id=payment.dispute_id,
            ),
            state=state,
            due_at=due.isoformat(),
        )
    digest = hashlib.sha256(
        json.dumps({"evidence": evidence, "submit": submit}, sort_keys=True).encode()
    ).hexdigest()[:32]
    result = get_provider().update_dispute_evidence(
        payment.dispute_id,
        evidence=evidence,
        submit=submit,
        idempotency_key=f"dispute-{payment.dispute_id}-evidence-{digest}",
    )
    if submit:
        payment.dispute_evidence_submitted_at = now
        payment.dispute_status = result.status or payment.dispute_status
    return payment, result


# --- reading ----------------------------------------------------------------------------------


def list_open(*, actor: Principal, limit: int = 50) -> list[dict]:
    """Staff: the chargebacks still open (disputed, not closed), the evidence deadline nearest
    first (none last)."""
    if not actor.is_staff:
        raise Forbidden(_("Chargebacks are for staff."))
    payments = db.session.scalars(
        select(JobPayment)
        .where(JobPayment.dispute_id.is_not(None), JobPayment.dispute_closed_at.is_(None))
        .order_by(
            JobPayment.dispute_evidence_due_at.is_(None),
            JobPayment.dispute_evidence_due_at,
            JobPayment.id,
        )
        .limit(limit)
    )
    return [
        {
            "job_id": p.job_id,
            "amount": p.dispute_amount,
            "currency": p.currency,
            "reason": p.dispute_reason,
            "status": p.dispute_status,
            "disputed_at": p.disputed_at,
            "evidence_due_at": p.dispute_evidence_due_at,
            "evidence_submitted_at": p.dispute_evidence_submitted_at,
        }
        for p in payments
    ]
