"""Files attached to ticket messages (crowd.core.files, purpose ticket_attachment: images or a
PDF): the author's ready uploads, each attached to one message only, read by whoever may read
the message — the ticket's parties as its visibility allows, staff always (an internal note's
attachment is staff's alone; anyone else gets 404, as for the ticket).

The old `attachments` of a message (metadata of files stored elsewhere) stay as they are.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound, field_error
from crowd.core.files import service as files
from crowd.core.i18n import _
from crowd.extensions import db
from support.models import TicketMessage, TicketMessageFile
from support.tickets.access import PARTIES, READABLE, ticket_for

MAX_FILES = 5
FIELD = "attachment_file_ids"


def attach(message: TicketMessage, *, file_ids: list[int]) -> None:
    """Attach the author's ready uploads to their (flushed) message, in the order given."""
    if not file_ids:
        return
    if message.author_id is None:
        raise field_error(FIELD, _("No such file of yours for this purpose."))
    # Rows of one table are locked in ascending id (crowd.core.locking).
    for file_id in sorted(file_ids):
        files.ready_file(
            owner_user_id=message.author_id,
            file_id=file_id,
            purpose=files.TICKET_ATTACHMENT,
            field=FIELD,
        )
    taken = db.session.scalars(
        select(TicketMessageFile.file_id).where(TicketMessageFile.file_id.in_(file_ids))
    ).first()
    if taken is not None:
        raise field_error(FIELD, _("File {file_id} is attached to another message.", file_id=taken))
    db.session.add_all(
        TicketMessageFile(message_id=message.id, file_id=file_id, position=position)
        for position, file_id in enumerate(file_ids)
    )


def files_of(message_ids: list[int]) -> dict[int, list[dict]]:
    """{message id: its files in order} for a page of messages, in one query; no URLs."""
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(TicketMessageFile, files.StoredFile)
        .join(files.StoredFile, files.StoredFile.id == TicketMessageFile.file_id)
        .where(TicketMessageFile.message_id.in_(message_ids))
        .order_by(TicketMessageFile.message_id, TicketMessageFile.position)
    )
    found: dict[int, list[dict]] = {}
    for link, file in rows:
        found.setdefault(link.message_id, []).append(
            {
                "id": link.file_id,
                "position": link.position,
                "content_type": file.content_type,
                "size": file.size,
                "status": "deleted" if file.status == "deleted" else "ready",
            }
        )
    return found


def _readable(actor: Principal, ticket_id: int):
    """The query of the ticket's messages the caller may read (404 for a ticket they may not)."""
    ticket, side = ticket_for(actor, ticket_id)
    query = select(TicketMessageFile).join(
        TicketMessage, TicketMessage.id == TicketMessageFile.message_id
    )
    query = query.where(TicketMessage.ticket_id == ticket.id)
    if side in PARTIES:
        query = query.where(TicketMessage.visibility.in_(READABLE[side]))
    return query


def _download(link: TicketMessageFile) -> files.Download | None:
    name = f"message-{link.message_id}-{link.position + 1}.{files.extension(link.file_id)}"
    return files.download(link.file_id, filename=name)


def download(*, actor: Principal, ticket_id: int, message_id: int, file_id: int) -> files.Download:
    """Short-lived URLs of a file attached to a message the caller may read (else 404)."""
    link = db.session.scalar(
        _readable(actor, ticket_id).where(
            TicketMessageFile.message_id == message_id, TicketMessageFile.file_id == file_id
        )
    )
    if link is None:
        raise NotFound(_("No such attachment."))
    found = _download(link)
    if found is None:
        raise NotFound(_("This attachment was deleted."))
    return found


def downloads(*, actor: Principal, ticket_id: int) -> dict[int, files.Download]:
    """{file id: short-lived URLs} of every ready file on the messages the caller may read
    (the console's thread)."""
    links = db.session.scalars(_readable(actor, ticket_id)).all()
    found = {link.file_id: _download(link) for link in links}
    return {file_id: urls for file_id, urls in found.items() if urls is not None}
