"""Opening a ticket: who it is about, its parties, its SLA clocks, follow-ups and disputes.

A customer or member opens a ticket about one of their jobs (both the job's customer and its
assigned member become parties) or about their own account (only their side); staff open one
about a job, a member and/or a customer. The description is the first message, visible to the
parties. A follow-up of a closed ticket (closed is final) keeps its job and parties. A dispute
(customers and members only, about a completed or confirmed job) also freezes the job's money
through support.disputes.open_dispute. A new ticket emits `ticket.opened` (support.lifecycle):
the priority support of top performers is mentoring's subscriber (`give_priority_support`).
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.errors import JobNotDisputable
from jobs.models import Job
from members.models import Member
from support.disputes import open_dispute
from support.errors import AlreadyDisputed
from support.lifecycle import opened
from support.messages import add_message
from support.models import Ticket, TicketEvent
from support.sla import due_times, retarget
from support.tickets.access import actor_kind, profile_id, side_of
from support.tickets.views import present_ticket

# Parties may not raise a ticket to urgent themselves; a community manager does (PATCH).
PARTY_PRIORITIES = ("low", "normal", "high")
# Priority support (top performers): one step up, never to urgent (a community manager's call).
PRIORITY_STEP_UP = {"low": "normal", "normal": "high", "high": "high"}
DISPUTABLE = ("completed", "confirmed")


def open_ticket(
    *,
    actor: Principal,
    subject: str,
    category: str,
    description: str,
    priority: str = "normal",
    job_id: int | None = None,
    customer_id: int | None = None,
    member_id: int | None = None,
    follow_up_of: int | None = None,
    dispute: bool = False,
    attachments: list[dict] | None = None,
    attachment_file_ids: list[int] | None = None,
) -> dict:
    """Open a ticket as the caller; returns it as the caller sees it."""
    kind = actor_kind(actor)
    _check_opener(kind, priority, customer_id, member_id, dispute)
    original = _original(actor, follow_up_of) if follow_up_of is not None else None
    if original is not None:
        job_id = _same("job_id", job_id, original.job_id)
        customer_id = _same("customer_id", customer_id, original.customer_id)
        member_id = _same("member_id", member_id, original.member_id)
    job = _job(job_id, lock=dispute) if job_id is not None else None
    if original is None:
        customer_id, member_id = _parties(actor, kind, job, customer_id, member_id)
    if dispute:
        _check_disputable(job)
    ticket = create_ticket(
        opener_id=actor.user_id,
        kind=kind,
        subject=subject,
        category=category,
        description=description,
        priority=priority,
        job_id=job_id,
        customer_id=customer_id,
        member_id=member_id,
        follow_up_of=follow_up_of,
        dispute=dispute,
        attachments=attachments or [],
        attachment_file_ids=attachment_file_ids,
    )
    if dispute:
        open_dispute(ticket, actor=actor)
    db.session.flush()
    return present_ticket(ticket, kind)


def create_ticket(
    *,
    opener_id: int,
    kind: str,
    subject: str,
    category: str,
    description: str,
    priority: str,
    job_id: int | None,
    customer_id: int | None,
    member_id: int | None,
    follow_up_of: int | None = None,
    dispute: bool = False,
    attachments: list[dict] | None = None,
    attachment_file_ids: list[int] | None = None,
    author_id: int | None = None,
    author_role: str | None = None,
) -> Ticket:
    """Store a checked ticket, its first message (by `author_role`, the opener's `kind`
    unless said) and its `ticket.opened`; the caller checked who may open it about what."""
    now = utcnow()
    first_due, resolution_due = due_times(priority, now)
    ticket = Ticket(
        subject=subject,
        category=category,
        priority=priority,
        status="new",
        job_id=job_id,
        customer_id=customer_id,
        member_id=member_id,
        opened_by_id=opener_id,
        opened_by_role=kind,
        dispute=dispute,
        follow_up_of_id=follow_up_of,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        # A ticket staff open is their first word to the parties already.
        first_response_at=now if kind == "staff" else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    db.session.flush()
    opened(ticket, actor=kind, actor_id=opener_id, follow_up_of=follow_up_of, dispute=dispute)
    author_role = author_role or kind
    add_message(
        ticket,
        author_id=opener_id if author_role == kind else author_id,
        author_role=author_role,
        visibility="parties",
        body=description,
        attachments=attachments or [],
        attachment_file_ids=attachment_file_ids,
        kind="support.ticket_opened",
        title=_l("New support ticket about you")
        if kind != "staff"
        else _l("Support contacted you"),
    )
    return ticket


def give_priority_support(ticket_id: int, *, programme: str) -> None:
    """Raise a new ticket's priority one step (never to urgent) for a member in a programme
    with priority support, re-aim its SLA clocks and note it on the ticket's opening."""
    ticket = db.session.get(Ticket, ticket_id)
    requested = ticket.priority
    ticket.priority = PRIORITY_STEP_UP.get(requested, requested)
    retarget(ticket)
    opening = db.session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "open")
    )
    opening.data = {**opening.data, "priority_support": programme, "requested_priority": requested}


def _check_opener(kind: str, priority: str, customer_id, member_id, dispute: bool) -> None:
    if kind == "staff":
        if dispute:
            raise field_error("dispute", _("only the job's customer or member opens a dispute"))
        return
    if priority not in PARTY_PRIORITIES:
        raise field_error("priority", _("urgent is set by a community manager; use high"))
    for name, value in (("customer_id", customer_id), ("member_id", member_id)):
        if value is not None:
            raise field_error(name, _("only staff open a ticket about someone else"))


def _same(field: str, given, inherited):
    """A follow-up is about what its original was about; naming something else is refused."""
    if given is not None and given != inherited:
        raise field_error(field, _("a follow-up is about the same job and parties as its original"))
    return inherited


def _original(actor: Principal, ticket_id: int) -> Ticket:
    """The closed ticket a follow-up continues; it must be one the caller can see."""
    original = db.session.get(Ticket, ticket_id)
    if original is None or side_of(actor, original) is None:
        raise field_error("follow_up_of", _("no such ticket of yours"))
    if original.status != "closed":
        raise field_error(
            "follow_up_of",
            _(
                "ticket {original_id} is {value}, not closed: write a message on it instead",
                original_id=original.id,
                value=original.status.replace("_", " "),
            ),
        )
    return original


def _job(job_id: int, *, lock: bool) -> Job:
    query = select(Job).where(Job.id == job_id)
    if lock:
        # Disputes of one job go one at a time (one open dispute per job).
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    job = db.session.scalar(query)
    if job is None:
        raise field_error("job_id", _("no such job of yours"))
    return job


def _parties(
    actor: Principal, kind: str, job: Job | None, customer_id, member_id
) -> tuple[int | None, int | None]:
    """(customer id, member id) of a new ticket, checked against what the caller may name."""
    if kind == "staff":
        return _staff_parties(job, customer_id, member_id)
    # A party's ticket takes its parties from the job: naming them is for staff (refused, not
    # silently ignored, so that a client learns it set nothing).
    for name, value in (("customer_id", customer_id), ("member_id", member_id)):
        if value is not None:
            raise field_error(
                name, _("staff only; a party's ticket takes its parties from the job")
            )
    own = profile_id(actor)
    if job is None:
        # About their own account: only their side.
        return (own, None) if kind == "customer" else (None, own)
    theirs = job.customer_id if kind == "customer" else job.assigned_member_id
    if own is None or theirs != own:
        raise field_error("job_id", _("no such job of yours"))
    return job.customer_id, job.assigned_member_id


def _staff_parties(job: Job | None, customer_id, member_id) -> tuple[int | None, int | None]:
    if job is not None:
        if customer_id is not None and customer_id != job.customer_id:
            raise field_error(
                "customer_id", _("job {job_id} belongs to another customer", job_id=job.id)
            )
        if member_id is not None and member_id != job.assigned_member_id:
            raise field_error(
                "member_id", _("job {job_id} is not assigned to this member", job_id=job.id)
            )
        return job.customer_id, job.assigned_member_id
    if customer_id is None and member_id is None:
        raise field_error("job_id", _("name the job, member or customer the ticket is about"))
    if customer_id is not None and db.session.get(Customer, customer_id) is None:
        raise field_error("customer_id", _("no such customer"))
    if member_id is not None and db.session.get(Member, member_id) is None:
        raise field_error("member_id", _("no such member"))
    return customer_id, member_id


def _check_disputable(job: Job | None) -> None:
    """A dispute is about a finished job that has no open dispute yet."""
    if job is None:
        raise field_error("job_id", _("a dispute is about a job: name it"))
    existing = db.session.scalar(
        select(Ticket.id).where(
            Ticket.job_id == job.id, Ticket.dispute.is_(True), Ticket.status != "closed"
        )
    )
    if existing is not None:
        raise AlreadyDisputed(
            _(
                "Job {job_id} is already disputed in ticket {existing}; add "
                "your complaint there as a message.",
                job_id=job.id,
                existing=existing,
            ),
            state=job.status,
            ticket_id=existing,
        )
    if job.status not in DISPUTABLE:
        raise JobNotDisputable(
            _(
                "Only a completed or confirmed job can be disputed; job {job_id} is {value}.",
                job_id=job.id,
                value=job.status.replace("_", " "),
            ),
            state=job.status,
        )
