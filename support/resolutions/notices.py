"""Telling the parties and staff about proposals: proposed, rejected, withdrawn, applied."""

from __future__ import annotations

from notifications.service import notify
from support.models import Resolution, Ticket
from support.tickets.access import party_user_ids


def amount_text(amount: int, currency: str | None) -> str:
    """Minor units as people read them: 6000, "EUR" → "60.00 EUR" (both currencies have cents)."""
    return f"{amount // 100}.{amount % 100:02d} {currency or ''}".strip()


def describe(resolution: Resolution) -> str:
    """The proposal in a few words, for notifications."""
    if resolution.kind == "release":
        return "release of the payment to the member"
    if resolution.kind == "goodwill":
        return f"goodwill credit of {amount_text(resolution.goodwill_amount, resolution.currency)}"
    what = {"full_refund": "full refund", "partial_refund": "partial refund", "split": "split"}
    back = amount_text(resolution.refund_amount, resolution.currency)
    return f"{what[resolution.kind]} ({back} back to the customer)"


def tell_parties(ticket: Ticket, resolution: Resolution, kind: str, title: str, body: str) -> None:
    """Notify both parties of the ticket, once per proposal and event kind."""
    for side, user_id in party_user_ids(ticket).items():
        notify(
            user_id,
            kind,
            title,
            f"“{ticket.subject}”: {body}",
            dedupe_key=f"{kind}:{resolution.id}:{user_id}",
            ticket_id=ticket.id,
            resolution_id=resolution.id,
            side=side,
        )


def tell_staff_and_other(ticket: Ticket, resolution: Resolution, rejected_by: str) -> None:
    """A party rejected: the other party and the assignee hear of it."""
    users = {uid for side, uid in party_user_ids(ticket).items() if side != rejected_by}
    if ticket.assignee_id is not None:
        users.add(ticket.assignee_id)
    for user_id in users:
        notify(
            user_id,
            "support.resolution_rejected",
            "Proposal rejected",
            f"“{ticket.subject}”: the {rejected_by} rejected the proposed "
            f"{describe(resolution)}; mediation goes on.",
            dedupe_key=f"support.resolution_rejected:{resolution.id}:{user_id}",
            ticket_id=ticket.id,
            resolution_id=resolution.id,
        )
