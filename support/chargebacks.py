"""Chargebacks as mediated cases: the ticket, the community managers' evidence, the outcome.

A chargeback (payouts.job_money.chargebacks) that disputes a job opens its dispute ticket in
category `chargeback` (support.events.mediate_dispute); whatever the job's state, the ticket of
the case (`open_case`) is linked to the payment's dispute (a `chargeback` event in its trail:
job, payment, dispute, member), its resolution is due at Stripe's evidence deadline and the
responsible community managers are told. From the ticket a CM reads an evidence draft built
from the job (`evidence_draft`) and sends it, edited or not, through the payment provider
(`send_evidence`; submitting is once, before the deadline, while the dispute is open). When the
bank decides (`close_case`), both parties hear the outcome and the ticket is resolved with a
system note — unless a party's dispute still holds the job, which mediation settles.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from accounts.staff_alerts import alert_staff
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import N_, _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job, Review, WorkReport
from members.models import Member
from notifications.service import notify
from payouts.job_money.chargebacks import submit_evidence
from payouts.job_money.payments import payment_of
from payouts.models.job_payments import JobPayment
from support.lifecycle import ACTIVE, record, transition
from support.messages import add_message
from support.models import Ticket, TicketEvent, TicketMessage
from support.tickets.access import dispute_live, lock_ticket, ticket_for
from support.tickets.opening import create_ticket

# Stripe's limit for one evidence text field.
MAX_TEXT = 20_000
# Evidence fields the draft fills and the API accepts (Stripe's names).
EVIDENCE_FIELDS = (
    "product_description",
    "customer_name",
    "customer_email_address",
    "service_date",
    "service_documentation",
    "customer_communication",
    "uncategorized_text",
    "billing_address",
    "refund_policy_disclosure",
    "cancellation_policy_disclosure",
    "refund_refusal_explanation",
    "cancellation_rebuttal",
    "access_activity_log",
)
OUTCOMES = {
    "won": "The bank decided the chargeback in our favour",
    "lost": "The bank decided the chargeback in the customer's favour",
    "closed": "The bank closed the chargeback inquiry",
}


# --- the case -------------------------------------------------------------------------------


def open_case(payment: JobPayment) -> Ticket:
    """Link the job's dispute ticket (else a new chargeback ticket, when the job was in no
    state to be disputed) to the chargeback, due at the evidence deadline, and tell the CMs."""
    job = db.session.get(Job, payment.job_id)
    ticket = _open_ticket_of(job.id) or create_ticket(
        opener_id=_user_of(Customer, job.customer_id),
        kind="customer",
        subject=f"Chargeback: {payment.dispute_reason or 'no reason given'}"[:200],
        category="chargeback",
        description=chargeback_description(job, payment.dispute_reason),
        priority="high",
        job_id=job.id,
        customer_id=job.customer_id,
        member_id=job.assigned_member_id,
        author_role="system",
    )
    due = payment.dispute_evidence_due_at
    if due is not None:
        # The evidence deadline is the case's SLA; a party's dispute it joins keeps an earlier
        # one of its own.
        joined = ticket.category != "chargeback"
        ticket.resolution_due_at = min(ticket.resolution_due_at, due) if joined else due
        ticket.first_response_due_at = min(ticket.first_response_due_at, due)
    record(
        ticket,
        "chargeback",
        actor="system",
        actor_id=None,
        job_id=job.id,
        payment_id=payment.id,
        dispute_id=payment.dispute_id,
        member_id=job.assigned_member_id,
        amount=payment.dispute_amount,
        currency=payment.currency,
        evidence_due_at=due.isoformat() if due is not None else None,
    )
    _tell_staff(ticket, job, payment)
    return ticket


def chargeback_description(job: Job, reason: str | None) -> str:
    return (
        f"The customer's bank disputes the payment for “{job.title}” "
        f"({reason or 'no reason given'})."
    )


def _open_ticket_of(job_id: int) -> Ticket | None:
    """The job's open dispute ticket, else its newest open chargeback ticket."""
    return db.session.scalar(
        select(Ticket)
        .where(
            Ticket.job_id == job_id,
            Ticket.status != "closed",
            Ticket.dispute.is_(True) | (Ticket.category == "chargeback"),
        )
        .order_by(Ticket.dispute.desc(), Ticket.id.desc())
        .limit(1)
    )


def _user_of(model, row_id: int | None) -> int | None:
    if row_id is None:
        return None
    return db.session.scalar(select(model.user_id).where(model.id == row_id))


def _tell_staff(ticket: Ticket, job: Job, payment: JobPayment) -> None:
    """The CMs responsible for payments in the job's region (accounts.staff_alerts), and the
    ticket's assignee if it has one."""
    due = payment.dispute_evidence_due_at
    by = f" by {due:%Y-%m-%d %H:%M} UTC" if due is not None else ""
    alert_staff(
        "support.chargeback_opened",
        _l("Chargeback: evidence needed"),
        _l(
            "The customer's bank disputes the payment for “{job_title}”. "
            "Submit evidence from ticket {ticket_id}{by}.",
            job_title=job.title,
            ticket_id=ticket.id,
            by=by,
        ),
        queue="payments",
        key=f"support.chargeback:{payment.dispute_id}",
        country=job.country,
        postcode=job.postcode,
        extra_recipients=[ticket.assignee_id] if ticket.assignee_id else [],
        ticket_id=ticket.id,
        job_id=job.id,
    )


def case_ticket(payment: JobPayment) -> Ticket | None:
    """The ticket linked to the payment's chargeback (its `chargeback` event), locked."""
    events = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.job_id == payment.job_id, TicketEvent.action == "chargeback")
        .order_by(TicketEvent.id.desc())
    ).all()
    for ticket_id, data in events:
        if (data or {}).get("dispute_id") == payment.dispute_id:
            return lock_ticket(ticket_id)
    return None


def close_case(payment: JobPayment, outcome: str) -> None:
    """The bank decided: both parties hear it, the ticket gets a system note and, unless a
    party's dispute still holds the job, is resolved."""
    ticket = case_ticket(payment)
    job = db.session.get(Job, payment.job_id)
    note = _outcome_note(payment, outcome)
    _tell_parties(job, payment, outcome, ticket)
    if ticket is None:
        return
    add_message(
        ticket,
        author_id=None,
        author_role="system",
        visibility="internal",
        body=note,
        attachments=[],
    )
    if ticket.status in (*ACTIVE, "escalated") and not dispute_live(ticket):
        transition(
            ticket,
            "chargeback_closed",
            actor="system",
            dispute_id=payment.dispute_id,
            outcome=outcome,
            note=note,
        )
    else:
        record(
            ticket, "chargeback_closed", actor="system", actor_id=None, outcome=outcome, note=note
        )


def _outcome_note(payment: JobPayment, outcome: str) -> str:
    money = f"{payment.dispute_amount or 0} minor units {payment.currency}"
    return f"{OUTCOMES[outcome]} (dispute {payment.dispute_id}, {money})."


def _tell_parties(job: Job, payment: JobPayment, outcome: str, ticket: Ticket | None) -> None:
    members = {
        "won": N_(
            "The customer's bank decided the chargeback for “{title}” in our favour: the job "
            "stands and your payout for it is released."
        ),
        "lost": N_(
            "The customer's bank decided the chargeback for “{title}” in the customer's "
            "favour; the money was taken back as the platform's chargeback policy says."
        ),
        "closed": N_("The customer's bank closed its inquiry into the payment for “{title}”."),
    }
    customers = {
        "won": N_("Your bank decided the dispute of the payment for “{title}”: the charge stands."),
        "lost": N_("Your bank decided the dispute of the payment for “{title}” in your favour."),
        "closed": N_("Your bank closed its inquiry into the payment for “{title}”."),
    }
    for side, model, row_id, texts in (
        ("member", Member, job.assigned_member_id, members),
        ("customer", Customer, job.customer_id, customers),
    ):
        user_id = _user_of(model, row_id)
        if user_id is None:
            continue
        notify(
            user_id,
            f"support.chargeback_{outcome}",
            _l("Chargeback decided"),
            _l(texts[outcome], title=job.title),
            dedupe_key=f"support.chargeback_{outcome}:{payment.dispute_id}:{side}",
            job_id=job.id,
            ticket_id=ticket.id if ticket is not None else None,
        )


# --- evidence -------------------------------------------------------------------------------


def _case(actor: Principal, ticket_id: int) -> tuple[Ticket, JobPayment]:
    """Staff only (a party gets 404, as for a ticket they may not see); the ticket must be
    about a job whose payment has a chargeback."""
    ticket, side = ticket_for(actor, ticket_id)
    if side != "staff":
        raise NotFound(_("No such ticket."))
    payment = payment_of(ticket.job_id) if ticket.job_id is not None else None
    if payment is None or payment.dispute_id is None:
        raise NotFound(_("This ticket's job has no chargeback."))
    return ticket, payment


def evidence_draft(*, actor: Principal, ticket_id: int) -> dict:
    """The evidence the job provides, as Stripe's dispute evidence fields (text)."""
    ticket, payment = _case(actor, ticket_id)
    return _present(ticket, payment, draft(db.session.get(Job, payment.job_id)))


def draft(job: Job) -> dict[str, str]:
    customer = db.session.get(Customer, job.customer_id)
    email = db.session.scalar(select(User.email).where(User.id == customer.user_id))
    served = job.completed_at or job.started_at or job.scheduled_start
    evidence = {
        "product_description": f"{job.title}: {job.description}",
        "customer_name": customer.company_name or customer.display_name,
        "customer_email_address": email,
        "service_date": served.date().isoformat() if served else "",
        "service_documentation": _documentation(job),
        "customer_communication": _communication(job),
        "uncategorized_text": _reviews(job),
    }
    return {name: text[:MAX_TEXT] for name, text in evidence.items() if text}


def _stamp(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "—"


def _documentation(job: Job) -> str:
    report = db.session.get(WorkReport, job.id)
    lines = [
        f"Job {job.id} at {job.postcode} {job.city}, {job.country}.",
        f"Scheduled: {_stamp(job.scheduled_start)} to {_stamp(job.scheduled_end)}.",
        f"Member checked in (work started): {_stamp(job.started_at)}.",
        f"Work completed: {_stamp(job.completed_at)}.",
        f"Confirmed by the customer: {_stamp(job.confirmed_at)}.",
    ]
    if report is not None:
        lines.append(f"Work report ({report.minutes_spent} minutes): {report.notes}")
        for part in report.parts or []:
            lines.append(f"Part used: {part}")
        if report.photo_refs:
            lines.append(f"Photos on file: {len(report.photo_refs)}")
    return "\n".join(lines)


def _communication(job: Job) -> str:
    """What the parties wrote to each other on the job's tickets (no internal notes)."""
    rows = db.session.execute(
        select(TicketMessage.created_at, TicketMessage.author_role, TicketMessage.body)
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(
            Ticket.job_id == job.id,
            TicketMessage.visibility == "parties",
            TicketMessage.author_role.in_(("customer", "member", "staff")),
        )
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all()
    return "\n".join(f"[{_stamp(at)}] {role}: {body}" for at, role, body in rows)


def _reviews(job: Job) -> str:
    rows = db.session.scalars(
        select(Review).where(Review.job_id == job.id).order_by(Review.id)
    ).all()
    return "\n".join(
        f"Review by the {r.author}: {r.stars}/5" + (f" — {r.comment}" if r.comment else "")
        for r in rows
    )


def send_evidence(
    *, actor: Principal, ticket_id: int, evidence: dict[str, str], submit: bool
) -> dict:
    """Send the CM's evidence through the provider (payouts), and with `submit` hand it in;
    noted on the ticket (internal) with who sent it. Refusals: see payouts' submit_evidence."""
    ticket, payment = _case(actor, ticket_id)
    # The payment's lock first, then the ticket's: the order the webhooks take them in.
    payment, result = submit_evidence(
        payment.job_id, evidence=evidence, submit=submit, now=utcnow()
    )
    ticket = lock_ticket(ticket.id)
    action = "chargeback_evidence_submitted" if submit else "chargeback_evidence_saved"
    record(
        ticket,
        action,
        actor="staff",
        actor_id=actor.user_id,
        dispute_id=payment.dispute_id,
        fields=sorted(evidence),
        provider_status=result.status,
        submission_count=result.submission_count,
    )
    what = "submitted to the card issuer" if submit else "saved at the payment provider"
    add_message(
        ticket,
        author_id=actor.user_id,
        author_role="staff",
        visibility="internal",
        body=f"Chargeback evidence {what} ({', '.join(sorted(evidence)) or 'no fields'}).",
        attachments=[],
    )
    db.session.flush()
    return _present(ticket, payment, evidence)


def _present(ticket: Ticket, payment: JobPayment, evidence: dict[str, str]) -> dict:
    return {
        "ticket_id": ticket.id,
        "job_id": payment.job_id,
        "dispute_id": payment.dispute_id,
        "dispute_status": payment.dispute_status,
        "amount": payment.dispute_amount,
        "currency": payment.currency,
        "evidence_due_at": payment.dispute_evidence_due_at,
        "submitted_at": payment.dispute_evidence_submitted_at,
        "evidence": evidence,
    }
