"""Staff compose, preview and send segment messages and follow their reach; members read
what they received. Delivery itself runs in the background (mentoring.broadcasts.delivery).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, String, cast, func, literal, select, update
from sqlalchemy.orm import aliased

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _, locales_of
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from mentoring.broadcasts import segments
from mentoring.errors import BroadcastStateConflict
from mentoring.models import Broadcast, BroadcastRecipient
from notifications.models import DELIVERY_STATUSES, Delivery, Notification
from notifications.service import tallies

CHANNELS = ("email", "push")

# (status, action) → next status; the send is staff's, the finish the delivery's.
TRANSITIONS = {
    ("draft", "send"): "sending",
    ("draft", "schedule"): "scheduled",
    ("scheduled", "unschedule"): "draft",
    ("scheduled", "send"): "sending",
    ("sending", "finish"): "sent",
}
# How far ahead a send may be scheduled.
SCHEDULE_HORIZON = timedelta(days=90)
START_TASK = "mentoring.start_scheduled_broadcast"


def transition(broadcast: Broadcast, action: str) -> None:
    """Move `broadcast` by `action`; 409 with its state when not allowed."""
    target = TRANSITIONS.get((broadcast.status, action))
    if target is None:
        raise BroadcastStateConflict(
            _(
                "Cannot {action} a broadcast that is {broadcast_status}.",
                action=action,
                broadcast_status=broadcast.status,
            ),
            state=broadcast.status,
        )
    broadcast.status = target


def lock_broadcast(broadcast_id: int) -> Broadcast | None:
    return db.session.scalar(
        select(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def inbox_key_sql(broadcast_id, member_id):
    """SQL for the recipient's inbox key (mentoring.broadcasts.delivery.inbox_key)."""
    return literal("broadcast:") + cast(broadcast_id, String) + ":" + cast(member_id, String)


def _with_inbox(query):
    """`query` on recipients, joined to each recipient's inbox entry (none before delivery)."""
    return query.outerjoin(
        Notification,
        Notification.dedupe_key
        == inbox_key_sql(BroadcastRecipient.broadcast_id, BroadcastRecipient.member_id),
    )


# Read: the member opened the inbox entry, or marked the message read (which reads the entry).
READ_AT = func.coalesce(BroadcastRecipient.read_at, Notification.read_at)


def tally_key(broadcast_id: int) -> str:
    """The key its inbox entries and their deliveries are counted under (notifications)."""
    return f"broadcast:{broadcast_id}"


def _counts(broadcasts: list[Broadcast]) -> dict[int, dict]:
    """Reach per broadcast: recipients, delivered (to the inbox), read, the read rate, and
    the deliveries beyond the inbox per channel and status — from the counts the database
    keeps as they happen (notifications.models.NotificationTally), not from the recipients."""
    counted = tallies(tally_key(b.id) for b in broadcasts)
    counts = {}
    for broadcast in broadcasts:
        tally = counted.get(tally_key(broadcast.id), {})
        inbox = tally.get("inbox", {})
        delivered, read = inbox.get("delivered", 0), inbox.get("read", 0)
        channels = {c: dict.fromkeys(DELIVERY_STATUSES, 0) for c in CHANNELS}
        for channel, statuses in tally.items():
            if channel != "inbox":
                channels.setdefault(channel, dict.fromkeys(DELIVERY_STATUSES, 0)).update(statuses)
        counts[broadcast.id] = {
            "recipients": broadcast.recipients_count,
            "delivered": delivered,
            "read": read,
            "read_rate": round(read / delivered, 4) if delivered else None,
            "channels": channels,
        }
    return counts


def broadcast_view(broadcast: Broadcast, counts: dict | None = None) -> dict:
    view = {column.key: getattr(broadcast, column.key) for column in Broadcast.__table__.columns}
    view["counts"] = counts if counts is not None else _counts([broadcast])[broadcast.id]
    return view


def _get(broadcast_id: int) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(_("No such broadcast."))
    return broadcast


def text_for(broadcast: Broadcast, locale: str | None) -> tuple[str, str]:
    """The title and body a reader of `locale` gets: its translation, else the default text."""
    text = (broadcast.translations or {}).get(locale or "")
    if text:
        return text["title"], text["body"]
    return broadcast.title, broadcast.body


def create_broadcast(
    *,
    actor: Principal,
    kind: str,
    title: str,
    body: str,
    segment: dict,
    translations: dict | None = None,
) -> dict:
    """A draft announcement or newsletter to a segment (unknown skills: 422), with its text
    per language beside the default text."""
    segments.check_segment(segment)
    broadcast = Broadcast(
        kind=kind,
        title=title,
        body=body,
        translations=translations or {},
        segment=segment,
        status="draft",
        created_by_id=actor.user_id,
    )
    db.session.add(broadcast)
    db.session.flush()
    return broadcast_view(broadcast)


def preview_segment(*, actor: Principal, **segment) -> dict:
    """Who a segment would reach now: the count and the first members."""
    segments.check_segment(segment)
    return segments.preview(segment)


def preview_broadcast(*, actor: Principal, broadcast_id: int) -> dict:
    """Who the broadcast's segment would reach now."""
    return segments.preview(_get(broadcast_id).segment)


def send_broadcast(*, actor: Principal, broadcast_id: int, send_at: datetime | None = None) -> dict:
    """Start sending now (the recipients are fixed and delivered in the background), or with
    `send_at` schedule it: a timed task starts it then (the periodic sweep as a safety net)."""
    now = utcnow()
    if send_at is not None and not now < send_at <= now + SCHEDULE_HORIZON:
        raise field_error("send_at", _("must be in the future, within 90 days"))
    broadcast = lock_broadcast(broadcast_id)
    if broadcast is None:
        raise NotFound(_("No such broadcast."))
    if send_at is None:
        _start(broadcast)
    else:
        transition(broadcast, "schedule")
        broadcast.scheduled_for = send_at
        enqueue(
            START_TASK,
            run_at=send_at,
            broadcast_id=broadcast.id,
            dedupe_key=f"{START_TASK}:{broadcast.id}:{send_at.isoformat()}",
        )
    db.session.flush()
    return broadcast_view(broadcast)


def _start(broadcast: Broadcast) -> None:
    transition(broadcast, "send")
    broadcast.scheduled_for = None
    enqueue("mentoring.deliver_broadcast", broadcast_id=broadcast.id)


def unschedule_broadcast(*, actor: Principal, broadcast_id: int) -> dict:
    """A scheduled broadcast back to draft: it does not go out (409 once it is sending)."""
    broadcast = lock_broadcast(broadcast_id)
    if broadcast is None:
        raise NotFound(_("No such broadcast."))
    transition(broadcast, "unschedule")
    broadcast.scheduled_for = None
    db.session.flush()
    return broadcast_view(broadcast)


def start_due(broadcast_id: int | None = None, *, now: datetime | None = None) -> int:
    """Start the scheduled broadcasts whose time has come (one, from its timed task, or all,
    from the periodic sweep); a broadcast unscheduled or rescheduled meanwhile waits. Returns
    how many started."""
    now = now or utcnow()
    query = select(Broadcast.id).where(
        Broadcast.status == "scheduled", Broadcast.scheduled_for <= now
    )
    if broadcast_id is not None:
        query = query.where(Broadcast.id == broadcast_id)
    started = 0
    for due_id in db.session.scalars(query.order_by(Broadcast.scheduled_for, Broadcast.id)):
        broadcast = lock_broadcast(due_id)
        if broadcast.status == "scheduled" and broadcast.scheduled_for <= now:
            _start(broadcast)
            started += 1
    db.session.flush()
    return started


def get_broadcast(*, actor: Principal, broadcast_id: int) -> dict:
    """One broadcast with its reach: recipients, delivered, read and the read rate."""
    return broadcast_view(_get(broadcast_id))


def list_broadcasts(
    *,
    actor: Principal,
    status: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Broadcasts, newest first, with their reach."""
    query = select(Broadcast)
    if status:
        query = query.where(Broadcast.status == status)
    if kind:
        query = query.where(Broadcast.kind == kind)
    args = {"limit": limit, "cursor": cursor}
    page = paginate(query, args, order=[Broadcast.id], descending=True)
    counts = _counts(page["items"])
    page["items"] = [broadcast_view(b, counts[b.id]) for b in page["items"]]
    return page


def list_recipients(
    *,
    actor: Principal,
    broadcast_id: int,
    read: bool | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """The broadcast's recipients by member id, each with its inbox read time and its
    deliveries (channel, status); ?read=true/false for read or unread ones."""
    _get(broadcast_id)
    query = _with_inbox(select(BroadcastRecipient)).where(
        BroadcastRecipient.broadcast_id == broadcast_id
    )
    if read is not None:
        query = query.where(READ_AT.is_not(None) if read else READ_AT.is_(None))
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[BroadcastRecipient.member_id])
    members = [r.member_id for r in page["items"]]
    names = dict(
        db.session.execute(
            select(Member.id, Member.display_name).where(Member.id.in_(members))
        ).all()
    )
    inbox = {
        member_id: (notification_id, read_at)
        for member_id, notification_id, read_at in db.session.execute(
            _with_inbox(select(BroadcastRecipient.member_id, Notification.id, READ_AT)).where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.member_id.in_(members),
            )
        )
    }
    deliveries: dict[int, list[dict]] = {}
    for delivery in db.session.scalars(
        select(Delivery)
        .where(Delivery.notification_id.in_([n for n, _read in inbox.values() if n is not None]))
        .order_by(Delivery.channel)
    ):
        deliveries.setdefault(delivery.notification_id, []).append(
            {
                "channel": delivery.channel,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "sent_at": delivery.sent_at,
                "last_error": delivery.last_error,
            }
        )
    items = []
    for r in page["items"]:
        notification_id, read_at = inbox.get(r.member_id, (None, None))
        items.append(
            {
                "member_id": r.member_id,
                "display_name": names.get(r.member_id),
                "delivered_at": r.delivered_at,
                "read_at": read_at,
                "notification_id": notification_id,
                "deliveries": deliveries.get(notification_id, []),
            }
        )
    page["items"] = items
    return page


def recipients_export(*, actor: Principal, broadcast_id: int, read: bool | None = None) -> Select:
    """The recipients of GET /broadcasts/{id}/recipients as one statement for a streamed
    export: member id, name, delivered, read, and the email and push status per row."""
    _get(broadcast_id)
    email, push = aliased(Delivery), aliased(Delivery)
    query = (
        _with_inbox(
            select(
                BroadcastRecipient.member_id,
                Member.display_name,
                BroadcastRecipient.delivered_at,
                READ_AT,
                email.status,
                push.status,
            )
        )
        .join(Member, Member.id == BroadcastRecipient.member_id)
        .outerjoin(email, (email.notification_id == Notification.id) & (email.channel == "email"))
        .outerjoin(push, (push.notification_id == Notification.id) & (push.channel == "push"))
        .where(BroadcastRecipient.broadcast_id == broadcast_id)
    )
    if read is not None:
        query = query.where(READ_AT.is_not(None) if read else READ_AT.is_(None))
    return query.order_by(BroadcastRecipient.member_id)


# --- the member's side ----------------------------------------------------------------------


def _received_view(
    recipient: BroadcastRecipient, broadcast: Broadcast, locale: str, inbox_read_at=None
) -> dict:
    read_at = recipient.read_at or inbox_read_at
    title, body = text_for(broadcast, locale)
    return {
        "id": broadcast.id,
        "kind": broadcast.kind,
        "title": title,
        "body": body,
        "delivered_at": recipient.delivered_at,
        "read_at": read_at,
        "read": read_at is not None,
    }


def my_broadcasts(
    *, actor: Principal, unread: bool = False, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The messages you received, newest first, each with whether you read it."""
    member_id = actor.require_member_id()
    query = _with_inbox(select(BroadcastRecipient)).where(
        BroadcastRecipient.member_id == member_id, BroadcastRecipient.delivered_at.is_not(None)
    )
    if unread:
        query = query.where(READ_AT.is_(None))
    page = paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[BroadcastRecipient.broadcast_id],
        descending=True,
    )
    broadcasts = {
        b.id: b
        for b in db.session.scalars(
            select(Broadcast).where(Broadcast.id.in_([r.broadcast_id for r in page["items"]]))
        )
    }
    inbox_reads = dict(
        db.session.execute(
            _with_inbox(select(BroadcastRecipient.broadcast_id, Notification.read_at)).where(
                BroadcastRecipient.member_id == member_id,
                BroadcastRecipient.broadcast_id.in_(list(broadcasts)),
            )
        ).all()
    )
    locale = locales_of([actor.user_id])[actor.user_id]
    page["items"] = [
        _received_view(r, broadcasts[r.broadcast_id], locale, inbox_reads.get(r.broadcast_id))
        for r in page["items"]
    ]
    return page


def mark_read(*, actor: Principal, broadcast_id: int) -> dict:
    """Mark a message you received read; again keeps the first `read_at`."""
    member_id = actor.require_member_id()
    recipient = db.session.scalar(
        select(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.member_id == member_id,
            BroadcastRecipient.delivered_at.is_not(None),
        )
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if recipient is None:
        raise NotFound(_("No such message."))
    if recipient.read_at is None:
        recipient.read_at = utcnow()
        # Read here is read in the inbox too (one read count, one unread badge).
        db.session.execute(
            update(Notification)
            .where(
                Notification.dedupe_key == f"broadcast:{broadcast_id}:{member_id}",
                Notification.user_id == actor.user_id,
                Notification.read_at.is_(None),
            )
            .values(read_at=recipient.read_at)
            .execution_options(synchronize_session=False)
        )
        db.session.flush()
    locale = locales_of([actor.user_id])[actor.user_id]
    return _received_view(recipient, db.session.get(Broadcast, broadcast_id), locale)
