"""Ticket messages: who may write what, who may read it, and what a message moves.

Visibility: `parties` (both parties and staff), `customer` / `member` (that party and staff),
`internal` (staff only). A party writes to `parties` only; staff write any visibility that has
a reader on the ticket. A party's message is their reply: a ticket waiting on them goes back
to the community manager, a resolved one reopens; a closed ticket takes no messages (open a
follow-up). The first staff message a party can read is the first response: its SLA clock
stops.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from notifications.service import notify
from support import attachments as attached_files
from support.errors import TicketClosed
from support.lifecycle import record, transition
from support.models import Ticket, TicketMessage
from support.tickets.access import (
    PARTIES,
    READABLE,
    notify_status,
    readers_of,
    ticket_for,
)

EXCERPT = 200


def add_message(
    ticket: Ticket,
    *,
    author_id: int | None,
    author_role: str,
    visibility: str,
    body: str,
    attachments: list[dict],
    attachment_file_ids: list[int] | None = None,
    kind: str = "support.message",
    title=_l("New message on your support ticket"),
) -> TicketMessage:
    """Store a message with the author's uploads attached, note it in the audit trail and tell
    its other readers."""
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=author_id,
        author_role=author_role,
        visibility=visibility,
        body=body,
        attachments=[dict(attachment) for attachment in attachments],
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    attached_files.attach(message, file_ids=attachment_file_ids or [])
    record(
        ticket,
        "message",
        actor=author_role,
        actor_id=author_id,
        message_id=message.id,
        visibility=visibility,
    )
    excerpt = body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…"
    for user_id in sorted(readers_of(ticket, visibility) - {author_id}):
        notify(
            user_id,
            kind,
            title,
            _l("“{ticket_subject}”: {excerpt}", ticket_subject=ticket.subject, excerpt=excerpt),
            dedupe_key=f"support.message:{message.id}:{user_id}",
            ticket_id=ticket.id,
            message_id=message.id,
        )
    return message


def post_message(
    *,
    actor: Principal,
    ticket_id: int,
    body: str,
    visibility: str = "parties",
    attachments: list[dict] | None = None,
    attachment_file_ids: list[int] | None = None,
) -> dict:
    """The caller writes on a ticket they can see (with their ready uploads of purpose
    ticket_attachment attached); a party's message may reopen it."""
    ticket, side = ticket_for(actor, ticket_id, lock=True)
    if ticket.status == "closed":
        raise TicketClosed(
            _(
                "This ticket is closed and takes no more messages; open a "
                "follow-up (POST /api/v1/tickets with "
                "follow_up_of={ticket_id}).",
                ticket_id=ticket.id,
            ),
            state=ticket.status,
            follow_up_of=ticket.id,
        )
    _check_visibility(ticket, side, visibility)
    message = add_message(
        ticket,
        author_id=actor.user_id,
        author_role=side,
        visibility=visibility,
        body=body,
        attachments=attachments or [],
        attachment_file_ids=attachment_file_ids,
    )
    if side in PARTIES:
        if ticket.status in (f"waiting_on_{side}", "resolved"):
            event = transition(ticket, "reply", actor=side, actor_id=actor.user_id)
            notify_status(ticket, event)
    elif visibility != "internal" and ticket.first_response_at is None:
        ticket.first_response_at = message.created_at
    db.session.flush()
    return present_messages([message])[0]


def _check_visibility(ticket: Ticket, side: str, visibility: str) -> None:
    if side in PARTIES:
        if visibility != "parties":
            raise field_error("visibility", _("parties write to both parties ('parties')"))
        return
    if visibility in PARTIES and getattr(ticket, f"{visibility}_id") is None:
        raise field_error(
            "visibility", _("this ticket has no {visibility} to write to", visibility=visibility)
        )


def list_messages(
    *, actor: Principal, ticket_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The ticket's messages the caller may read, oldest first, with their files."""
    ticket, side = ticket_for(actor, ticket_id)
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    if side in PARTIES:
        query = query.where(TicketMessage.visibility.in_(READABLE[side]))
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[TicketMessage.id])
    page["items"] = present_messages(page["items"])
    return page


def present_messages(messages: list[TicketMessage]) -> list[dict]:
    """Messages as TicketMessageSchema dumps them: their files listed, without URLs."""
    files = attached_files.files_of([message.id for message in messages])
    return [
        {
            "id": message.id,
            "ticket_id": message.ticket_id,
            "author_id": message.author_id,
            "author_role": message.author_role,
            "visibility": message.visibility,
            "body": message.body,
            "attachments": message.attachments,
            "files": files.get(message.id, []),
            "created_at": message.created_at,
        }
        for message in messages
    ]
