"""Deliveries: a notification on each channel beyond the inbox, written with it (outbox
pattern), sent after the commit, retried with backoff, suppressed for dead addresses.

`queue_deliveries` runs inside notify()/notify_many(): one INSERT … SELECT per channel over the
notifications just written, choosing the users whose preference (or, without one, the kind's
default) has the channel on — and, for marketing kinds, who hold a current consent. Nothing
else is queued in the transaction: after the commit a hook starts the sender (inline, or an RQ
job), and the periodic sweeper (`notifications.send_due`) sends whatever is due, so a lost
hand-over (Redis down, a crash) only delays a delivery.

Sending one delivery: a conditional UPDATE claims it (queued and due → sending, with a lease),
committed before the provider is called, so a second run of the task finds it claimed or sent
and sends nothing. The result is recorded in a second transaction; a worker that dies between
the two leaves a lapsed lease the sweeper takes back (at most one extra send, never a lost
one). Quiet hours defer a delivery to their end; a suppressed address makes it `suppressed`.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from rq import Queue
from sqlalchemy import BigInteger, Boolean, String, and_, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from crowd.core.background import redis_connection, run_periodic, task
from crowd.core.db import after_commit, is_postgres, utcnow
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from notifications.channels import (
    CHANNELS,
    Outgoing,
    SendResult,
    delivery_channels,
    policy_for,
)
from notifications.config import mail_settings
from notifications.models import (
    Consent,
    Delivery,
    DeliverySettings,
    Notification,
    NotificationPreference,
    Suppression,
)

log = logging.getLogger(__name__)

SEND_TASK = "notifications.send_due"
_NEW = "crowd_deliveries_new"
# How long a claimed delivery may stay `sending` before the sweeper takes it back.
LEASE = timedelta(minutes=5)
KEYS_PER_STATEMENT = 1000
BATCH = 200
# A run of the sender stops taking new batches after this long; the next run goes on.
RUN_BUDGET_SECONDS = 25
MAX_BACKOFF = timedelta(days=1)


def _dialect():
    return postgresql if is_postgres() else sqlite


def current_consent(user_id_column, topic: str):
    """SQL: the user holds a current consent to `topic`."""
    return exists().where(
        Consent.user_id == user_id_column,
        Consent.topic == topic,
        Consent.granted_at.is_not(None),
        Consent.withdrawn_at.is_(None),
    )


# (kind, channel, the notification's user id column) → one more SQL condition a user must meet
# to get the delivery, or None. Filled by higher packages' wiring: accounts keeps the
# per-alert email of community managers who read alerts in a digest from being queued.
QueueFilter = Callable[[str, str, object], object]
_queue_filters: list[QueueFilter] = []


def register_queue_filter(queue_filter: QueueFilter) -> None:
    """Add a condition on who gets a delivery (once; registering it again changes nothing)."""
    if queue_filter not in _queue_filters:
        _queue_filters.append(queue_filter)


def _filters(kind: str, channel: str) -> list:
    clauses = (f(kind, channel, Notification.user_id) for f in _queue_filters)
    return [clause for clause in clauses if clause is not None]


def queue_deliveries(kind: str, keys: list[str], *, content: dict | None = None) -> None:
    """Queue the deliveries of the notifications `keys` (of one `kind`), set-based, in the
    caller's transaction; a notification delivered already on a channel gets no second one."""
    policy = policy_for(kind)
    if not policy.channels or not keys:
        return
    now = utcnow()
    queued = 0
    for channel in delivery_channels():
        preference = (
            select(NotificationPreference.enabled)
            .where(
                NotificationPreference.user_id == Notification.user_id,
                NotificationPreference.kind == kind,
                NotificationPreference.channel == channel,
            )
            .scalar_subquery()
        )
        wanted = func.coalesce(preference, literal(channel in policy.channels, Boolean))
        filters = _filters(kind, channel)
        for start in range(0, len(keys), KEYS_PER_STATEMENT):
            chunk = keys[start : start + KEYS_PER_STATEMENT]
            conditions = [Notification.kind == kind, Notification.dedupe_key.in_(chunk), wanted]
            conditions.extend(filters)
            if policy.topic:
                conditions.append(current_consent(Notification.user_id, policy.topic))
            reachable = CHANNELS[channel].reachable
            if reachable is not None:
                conditions.append(Notification.user_id.in_(reachable()))
            rows = select(
                Notification.id,
                Notification.user_id,
                literal(kind, String),
                literal(channel, String),
                literal("queued", String),
                literal(0, BigInteger),
                literal(now, Delivery.next_attempt_at.type),
                literal(now, Delivery.created_at.type),
            ).where(and_(*conditions))
            statement = (
                _dialect()
                .insert(Delivery)
                .from_select(
                    [
                        "notification_id",
                        "user_id",
                        "kind",
                        "channel",
                        "status",
                        "attempts",
                        "next_attempt_at",
                        "created_at",
                    ],
                    rows,
                )
                .on_conflict_do_nothing(index_elements=["notification_id", "channel"])
            )
            queued += db.session.execute(statement).rowcount or 0
    if content and queued:
        # What the channel says instead of the inbox's text (one notification: notify()).
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.notification_id.in_(
                    select(Notification.id).where(Notification.dedupe_key.in_(keys))
                ),
                Delivery.content.is_(None),
            )
            .values(content=content)
            .execution_options(synchronize_session=False)
        )
    if queued:
        db.session.info[_NEW] = True


@contextmanager
def sending_held() -> Iterator[None]:
    """Queue deliveries but start no sender after each commit (bulk work such as the demo's
    replay); the sweeper — or the caller, with `send_due()` — sends them afterwards."""
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1


_held = 0


def _start_sender() -> None:
    """After a commit that queued deliveries: send them now (inline) or hand the sender to RQ.
    A failure here loses nothing — the periodic sweeper sends what is due."""
    if not db.session.info.pop(_NEW, False) or _held:
        return
    settings = current_app.config["CROWD_SETTINGS"]
    try:
        if settings.inline_background:
            run_periodic(SEND_TASK)
        else:
            Queue(settings.rq_queue, connection=redis_connection()).enqueue(
                "crowd.core.background.run_periodic", kwargs={"task_name": SEND_TASK}
            )
    except Exception:
        log.exception("starting the delivery sender failed; the sweeper will send")
        db.session.rollback()


after_commit(_start_sender)


# --- sending --------------------------------------------------------------------------------


@task(SEND_TASK)
def send_due(batch: int = BATCH) -> int:
    """Send every due delivery, `batch` at a time, for at most RUN_BUDGET (the next run goes
    on); returns how many were sent. The after-commit hand-over and the periodic sweeper both
    run this; several at once share the work (each delivery is claimed by one). Each channel's
    session is held for the run (email: one SMTP connection, opened at the first message)."""
    started = clock.monotonic()
    sent = 0
    with ExitStack() as sessions:
        for channel in CHANNELS.values():
            if channel.session is not None:
                sessions.enter_context(channel.session())
        while True:
            due = _due(batch)
            sent += sum(send_one(delivery_id) == "sent" for delivery_id in due)
            if len(due) < batch or clock.monotonic() - started > RUN_BUDGET_SECONDS:
                return sent


def _due(batch: int) -> list[int]:
    """Take back lapsed claims (a sender died mid-send), then the ids of due deliveries."""
    now = utcnow()
    db.session.execute(
        update(Delivery)
        .where(Delivery.status == "sending", Delivery.claimed_until < now)
        .values(status="queued", claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    due = list(
        db.session.scalars(
            select(Delivery.id)
            .where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(batch)
        )
    )
    db.session.commit()
    return due


def send_one(delivery_id: int) -> str:
    """Claim, send and record one delivery; returns what became of it (or "skipped")."""
    outgoing, content = _claim(delivery_id)
    if outgoing is None:
        return content  # why not: skipped, deferred, suppressed
    channel = CHANNELS.get(outgoing.channel)
    try:
        result = channel.send(outgoing, content) if channel else SendResult("temporary")
    except Exception as error:  # a channel's bug must not strand the claim
        log.exception("channel failed for delivery %s", delivery_id)
        result = SendResult("temporary", error=f"{type(error).__name__}: {error}"[:2000])
    return _record(delivery_id, result, outgoing.address)


def _claim(delivery_id: int):
    """Take the delivery if it is queued and due; None with the reason otherwise."""
    now = utcnow()
    claimed = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "queued",
            Delivery.next_attempt_at <= now,
        )
        .values(status="sending", claimed_until=now + LEASE, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None, "skipped"
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    notification = db.session.get(Notification, delivery.notification_id)
    policy = policy_for(delivery.kind)
    channel = CHANNELS.get(delivery.channel)
    if channel is not None and channel.quiet and not policy.urgent:
        resume = quiet_until(delivery.user_id, now)
        if resume is not None:
            delivery.status, delivery.claimed_until = "queued", None
            delivery.attempts -= 1
            delivery.next_attempt_at = resume
            db.session.commit()
            return None, "deferred"
    address = channel.address(delivery.user_id) if channel and channel.address else None
    if address and is_suppressed(delivery.channel, address):
        delivery.status, delivery.claimed_until, delivery.address = "suppressed", None, address
        delivery.last_error = "the address is suppressed"
        db.session.commit()
        return None, "suppressed"
    outgoing = Outgoing(
        delivery_id=delivery.id,
        notification_id=notification.id,
        user_id=delivery.user_id,
        kind=delivery.kind,
        channel=delivery.channel,
        title=notification.title,
        body=notification.body,
        data=dict(notification.data or {}),
        dedupe_key=notification.dedupe_key or f"delivery:{delivery.id}",
        policy=policy,
        address=address,
    )
    content = dict(delivery.content) if delivery.content else None
    db.session.commit()
    return outgoing, content


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: MAIL_RETRY_BASE_SECONDS doubled each
    time, at most a day."""
    seconds = mail_settings().retry_base_seconds * 2 ** max(0, attempts - 1)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _record(delivery_id: int, result: SendResult, address: str | None) -> str:
    delivery = db.session.get(
        Delivery, delivery_id, with_for_update=ROW_LOCK, populate_existing=True
    )
    if delivery.status == "sent":
        # Our claim lapsed and another sender sent it meanwhile: sent stays sent.
        db.session.rollback()
        return "sent"
    now = utcnow()
    delivery.claimed_until = None
    delivery.address = result.address or address or delivery.address
    if result.status == "sent":
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
        delivery.provider_message_id = result.provider_message_id
    elif result.status == "temporary":
        delivery.last_error = result.error or "temporary failure"
        if delivery.attempts >= mail_settings().max_attempts:
            delivery.status = "failed"
        else:
            delivery.status = "queued"
            delivery.next_attempt_at = now + backoff(delivery.attempts)
    elif result.status == "permanent":
        delivery.status, delivery.last_error = "failed", result.error or "permanent failure"
        if delivery.address:
            suppress(delivery.channel, delivery.address, delivery.last_error, delivery.id)
    elif result.status == "no_device":
        delivery.status, delivery.last_error = "suppressed", "no device"
    else:
        delivery.status, delivery.last_error = "failed", result.error or result.status
    db.session.commit()
    return delivery.status


# --- suppressions ---------------------------------------------------------------------------


def is_suppressed(channel: str, address: str) -> bool:
    return (
        db.session.scalar(
            select(Suppression.id).where(
                Suppression.channel == channel, Suppression.address == address.lower()
            )
        )
        is not None
    )


def suppress(channel: str, address: str, reason: str, delivery_id: int | None = None) -> None:
    """Stop sending to `address` on `channel`; suppressing it again keeps the first record."""
    statement = (
        _dialect()
        .insert(Suppression)
        .values(
            channel=channel,
            address=address.lower(),
            reason=reason[:2000],
            delivery_id=delivery_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["channel", "address"])
    )
    db.session.execute(statement)


# --- quiet hours ----------------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def quiet_until(user_id: int, now: datetime) -> datetime | None:
    """The end of the user's quiet hours if `now` falls in them, else None."""
    settings = db.session.get(DeliverySettings, user_id)
    if settings is None or settings.quiet_start is None or settings.quiet_end is None:
        return None
    return quiet_end_after(now, settings.time_zone, settings.quiet_start, settings.quiet_end)


def quiet_end_after(now: datetime, tz: str, start: time, end: time) -> datetime | None:
    """When quiet hours (local `start`–`end`, spanning midnight if end ≤ start) that hold at
    `now` end, in UTC; None if `now` is not in them."""
    if start == end:
        return None
    local = now.astimezone(zone(tz))
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(now.tzinfo)
