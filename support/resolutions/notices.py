"""Telling the parties and staff about proposals: proposed, rejected, withdrawn, applied."""

from __future__ import annotations

from crowd.core.i18n import _l
from notifications.service import notify
from support.models import Resolution, Ticket
from support.tickets.access import party_user_ids


def amount_text(amount: int, currency: str | None) -> str:
    """Minor units as people read them: 6000, "EUR" → "60.00 EUR" (both currencies have cents)."""
    return f"{amount // 100}.{amount % 100:02d} {currency or ''}".strip()


def describe(resolution: Resolution):
    """The proposal in a few words, for notifications."""
    if resolution.kind == "release":
        return _l("release of the payment to the member")
    if resolution.kind == "goodwill":
        return _l(
            "goodwill credit of {amount}",
            amount=amount_text(resolution.goodwill_amount, resolution.currency),
        )
    what = {
        "full_refund": _l("full refund"),
        "partial_refund": _l("partial refund"),
        "split": _l("split"),
    }
    back = amount_text(resolution.refund_amount, resolution.currency)
    return _l("{what} ({back} back to the customer)", what=what[resolution.kind], back=back)


def tell_parties(ticket: Ticket, resolution: Resolution, kind: str, title: str, body: str) -> None:
    """Notify both parties of the ticket, once per proposal and event kind."""
    for side, user_id in party_user_ids(ticket).items():
        notify(
            user_id,
            kind,
            title,
            _l("“{ticket_subject}”: {body}", ticket_subject=ticket.subject, body=body),
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
            _l("Proposal rejected"),
            _l(
                "“{ticket_subject}”: the {rejected_by} rejected the proposed "
                "{resolution}; mediation goes on.",
                ticket_subject=ticket.subject,
                rejected_by=rejected_by,
                resolution=describe(resolution),
            ),
            dedupe_key=f"support.resolution_rejected:{resolution.id}:{user_id}",
            ticket_id=ticket.id,
            resolution_id=resolution.id,
        )
