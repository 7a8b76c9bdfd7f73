"""Satisfaction ratings: each party rates how a closed ticket was handled, once."""

from __future__ import annotations

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden
from crowd.core.i18n import _
from crowd.extensions import db
from support.errors import AlreadyRated, TicketNotClosed
from support.lifecycle import record
from support.models import TicketRating
from support.tickets.access import PARTIES, ticket_for


def rate(
    *, actor: Principal, ticket_id: int, score: int, comment: str | None = None
) -> TicketRating:
    """The caller's side rates a closed ticket from 1 to 5; before closing, or twice, is a 409."""
    ticket, side = ticket_for(actor, ticket_id, lock=True)
    if side not in PARTIES:
        raise Forbidden(_("Only the ticket's customer and member rate it."))
    if ticket.status != "closed":
        raise TicketNotClosed(_("A ticket is rated once it is closed."), state=ticket.status)
    if db.session.get(TicketRating, (ticket.id, side)) is not None:
        raise AlreadyRated(_("You have rated this ticket already."), state=ticket.status)
    rating = TicketRating(
        ticket_id=ticket.id, party=side, user_id=actor.user_id, score=score, comment=comment or None
    )
    db.session.add(rating)
    record(ticket, "rate", actor=side, actor_id=actor.user_id, score=score)
    db.session.flush()
    return rating
