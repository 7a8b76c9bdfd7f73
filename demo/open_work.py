"""Work waiting for the community managers when the demo starts, so the console's My work is
not empty on the first visit: two jobs done but not yet confirmed are disputed by their
customers (one taken by the first CM, one waiting unassigned), and a member asks about a
payout. Everything goes through the services, as a customer, member or CM would do it."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.extensions import db
from customers.models import Customer
from demo.history.jobs import DISPUTE_REASONS
from jobs.models import Job
from jobs.service import dispute_job
from members.models import Member
from support.models import Ticket
from support.tickets.actions import assign
from support.tickets.opening import open_ticket


def open_current_work(cm_email: str, member_email: str) -> str:
    cm_id = db.session.scalar(select(User.id).where(User.email == cm_email))
    cm = Principal(cm_id, "community_manager", 0, "demo")
    done = db.session.scalars(
        select(Job).where(Job.status == "completed").order_by(Job.completed_at.desc()).limit(2)
    ).all()
    for number, job in enumerate(done):
        customer = db.session.get(Customer, job.customer_id)
        dispute_job(
            actor=Principal(customer.user_id, "customer", 0, "demo", customer_id=customer.id),
            job_id=job.id,
            reason=DISPUTE_REASONS[number % len(DISPUTE_REASONS)],
        )
        if number == 0:
            ticket_id = db.session.scalar(
                select(Ticket.id).where(Ticket.job_id == job.id, Ticket.dispute.is_(True))
            )
            assign(actor=cm, ticket_id=ticket_id, assignee_id=cm_id)
    # The named member, else (a small demo may have given that address to a mentor) any
    # active one.
    member = db.session.scalar(
        select(Member)
        .join(User, User.id == Member.user_id)
        .where(Member.status == "active")
        .order_by((User.email == member_email).desc(), Member.id)
        .limit(1)
    )
    if member is None:
        return f"open work: {len(done)} disputed jobs (one taken by {cm_email})"
    open_ticket(
        actor=Principal(member.user_id, "member", 0, "demo", member_id=member.id),
        subject="When is my payout?",
        category="payment",
        description="My last job was confirmed a week ago; when does the money reach my bank?",
    )
    return f"open work: {len(done)} disputed jobs (one taken by {cm_email}), 1 member question"
