"""Background delivery of a broadcast: fix the recipient list in one INSERT … SELECT, then
deliver in batches, each to the members' inboxes, which queues their deliveries (email, push)
in the same statement-per-channel way (notifications.delivery). Every step may run twice: the
recipient list is written once, and a recipient delivered already is skipped; the inbox entry
is unique by its dedupe key and its delivery by (notification, channel).

Announcements go by email and push as well (not every member opens the app for one);
newsletters are marketing: beyond the inbox only to members with a current consent to the
newsletter (double opt-in, POST /api/v1/me/consents), and with List-Unsubscribe.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, func, insert, literal, select, update

from accounts.models import User
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.i18n import locales_of
from crowd.extensions import db
from members.models import Member
from mentoring.broadcasts.segments import segment_clauses
from mentoring.broadcasts.service import lock_broadcast, tally_key, text_for, transition
from mentoring.models import Broadcast, BroadcastRecipient
from notifications.service import notify_many

BATCH = 500


def inbox_key(broadcast_id: int, member_id: int) -> str:
    return f"broadcast:{broadcast_id}:{member_id}"


def resolve_recipients(broadcast_id: int, *, batch: int = BATCH) -> int:
    """Freeze the recipients of a broadcast being sent and queue their delivery in batches.

    Returns the number of recipients; a second run finds them written and does nothing.
    """
    broadcast = lock_broadcast(broadcast_id)
    if broadcast is None or broadcast.status != "sending":
        return 0
    written = select(BroadcastRecipient.member_id).where(
        BroadcastRecipient.broadcast_id == broadcast.id
    )
    if db.session.scalar(written.limit(1)) is not None:
        return broadcast.recipients_count
    # The segment, resolved and stored in one statement.
    members = select(literal(broadcast.id, BigInteger), Member.id).where(
        *segment_clauses(broadcast.segment)
    )
    db.session.execute(
        insert(BroadcastRecipient).from_select(["broadcast_id", "member_id"], members)
    )
    member_ids = list(db.session.scalars(written.order_by(BroadcastRecipient.member_id)))
    broadcast.recipients_count = len(member_ids)
    if not member_ids:
        _finish(broadcast)
        return 0
    for start in range(0, len(member_ids), batch):
        chunk = member_ids[start : start + batch]
        enqueue(
            "mentoring.deliver_broadcast_batch",
            broadcast_id=broadcast.id,
            first_member_id=chunk[0],
            last_member_id=chunk[-1],
        )
    return len(member_ids)


def deliver_batch(*, broadcast_id: int, first_member_id: int, last_member_id: int) -> int:
    """Deliver to the not yet delivered recipients between two member ids; finish the
    broadcast when none is left anywhere. Returns how many were delivered now."""
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return 0
    pending = db.session.execute(
        select(BroadcastRecipient.member_id, User.id, User.email)
        .join(Member, Member.id == BroadcastRecipient.member_id)
        .join(User, User.id == Member.user_id)
        .where(
            BroadcastRecipient.broadcast_id == broadcast.id,
            BroadcastRecipient.member_id.between(first_member_id, last_member_id),
            BroadcastRecipient.delivered_at.is_(None),
        )
        .order_by(BroadcastRecipient.member_id)
        # A duplicate run of this batch waits here, then finds the rows delivered.
        .with_for_update(of=BroadcastRecipient, key_share=True)
    ).all()
    if pending:
        _deliver(broadcast, pending)
    _finish_if_done(broadcast.id)
    return len(pending)


def _deliver(broadcast: Broadcast, pending: list) -> None:
    # Each recipient reads the text of their language (one query for the batch's locales).
    locales = locales_of(user_id for _, user_id, _ in pending)
    by_text: dict[tuple[str, str], list] = {}
    for member_id, user_id, _ in pending:
        by_text.setdefault(text_for(broadcast, locales[user_id]), []).append(
            (user_id, inbox_key(broadcast.id, member_id), {"broadcast_id": broadcast.id})
        )
    for (title, body), recipients in by_text.items():
        notify_many(
            f"broadcast.{broadcast.kind}",
            title,
            body,
            recipients=recipients,
            tally_key=tally_key(broadcast.id),
        )
    db.session.execute(
        update(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == broadcast.id,
            BroadcastRecipient.member_id.in_([member_id for member_id, _, _ in pending]),
        )
        .values(delivered_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _finish_if_done(broadcast_id: int) -> None:
    # Locked after this batch's writes: whichever batch locks last sees all others committed.
    broadcast = lock_broadcast(broadcast_id)
    if broadcast is None or broadcast.status != "sending":
        return
    undelivered = db.session.scalar(
        select(func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.delivered_at.is_(None),
        )
    )
    if undelivered == 0:
        _finish(broadcast)


def _finish(broadcast: Broadcast) -> None:
    transition(broadcast, "finish")
    broadcast.sent_at = utcnow()
