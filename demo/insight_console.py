"""Demo data for the console's Insight charts the history replay leaves empty: the parties'
satisfaction ratings of the closed tickets (through the API's own rating service)."""

from __future__ import annotations

import random

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import commit
from crowd.extensions import db
from customers.models import Customer
from members.models import Member
from support.models import Ticket
from support.tickets.ratings import rate

# Mostly content, some not: a chart with more than one bar.
SCORES = (5, 5, 4, 4, 4, 3, 2, 1)


def rate_closed_tickets(seed: int = 7) -> str:
    """Each party of a closed ticket rates it once (1–5), as POST /tickets/{id}/rating does."""
    rng = random.Random(seed)
    rows = db.session.execute(
        select(Ticket.id, Customer.id, Customer.user_id, Member.id, Member.user_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Member, Member.id == Ticket.member_id)
        .where(Ticket.status == "closed")
        .order_by(Ticket.id)
    ).all()
    count = 0
    for ticket_id, customer_id, customer_user, member_id, member_user in rows:
        parties = []
        if customer_id is not None:
            parties.append(Principal(customer_user, "customer", 0, "demo", customer_id=customer_id))
        if member_id is not None:
            parties.append(Principal(member_user, "member", 0, "demo", member_id=member_id))
        for actor in parties:
            rate(actor=actor, ticket_id=ticket_id, score=rng.choice(SCORES))
            count += 1
    commit()
    return f"insight: {count} ticket ratings of {len(rows)} closed tickets"
