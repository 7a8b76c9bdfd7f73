"""Deliveries: a notification on each channel beyond the inbox, written with it (outbox
pattern), sent after the commit, retried with backoff, suppressed for dead addresses.

`queue_deliveries` runs inside notify()/notify_many(): one INSERT … SELECT per channel over the
notifications just written, choosing the users whose preference (or, without one, the kind's
default) has the channel on — and, for marketing kinds, who hold a current consent. Nothing
else is queued in the transaction: after the commit a hook starts the sender (inline, or an RQ
job), and the periodic sweeper (`notifications.send_due`) sends whatever is due, so a lost
hand-over (Redis down, a crash) only delays a delivery.

The sender works in batches (`send_batch`): one UPDATE … RETURNING claims up to BATCH due
deliveries (queued and due → sending, with a lease; SKIP LOCKED on PostgreSQL, so concurrent
senders take disjoint batches), committed before any provider is called, so another sender
finds them claimed or sent and sends nothing. What sending needs is read for the whole batch in
one query each (notifications, quiet hours, addresses, suppressions, consents); the messages go
out over the channel's session (email: one SMTP connection a run); the outcomes are recorded
in one executemany UPDATE and one commit. A sender that dies between claim and record leaves
lapsed leases the next batch of any sender takes back (at most one extra send, never a lost
one); a batch still sending at half its lease releases the rest. Quiet hours defer a delivery
to their end; a suppressed address, or a marketing consent withdrawn since queueing, makes it
`suppressed`.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from rq import Queue
from sqlalchemy import (
    BigInteger,
    Boolean,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from crowd.core.background import redis_connection, run_periodic, task
from crowd.core.db import UTCDateTime, after_commit, is_postgres, utcnow
from crowd.core.i18n import locales_of
from crowd.extensions import db
from notifications.channels import (
    CHANNELS,
    Outgoing,
    SendResult,
    delivery_channels,
    policy_for,
)
from notifications.config import mail_settings, mail_settings_held
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
                Notification.tally_key,
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
                        "tally_key",
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
def send_due(batch: int | None = None) -> int:
    """Send every due delivery, `batch` at a time, for at most RUN_BUDGET (the next run goes
    on); returns how many were sent. The after-commit hand-over and the periodic sweeper both
    run this; several at once share the work (each batch is claimed by one, SKIP LOCKED on
    PostgreSQL). Each channel's session is held for the run (email: one SMTP connection,
    opened at the first message), and the mail settings are read once a run."""
    batch = batch or BATCH
    started = clock.monotonic()
    sent = 0
    with ExitStack() as sessions:
        sessions.enter_context(mail_settings_held())
        for channel in CHANNELS.values():
            if channel.session is not None:
                sessions.enter_context(channel.session())
        while True:
            outcomes = send_batch(batch)
            sent += sum(status == "sent" for status in outcomes.values())
            if len(outcomes) < batch or clock.monotonic() - started > RUN_BUDGET_SECONDS:
                return sent


def send_one(delivery_id: int) -> str:
    """Claim, send and record one delivery (if it is queued and due); returns what became of
    it: sent, queued (to be retried), failed, deferred, suppressed, or skipped (not ours)."""
    outcomes = send_batch(1, ids=[delivery_id])
    return outcomes.get(delivery_id, "skipped")


def send_batch(limit: int, *, ids: list[int] | None = None) -> dict[int, str]:
    """One batch of the sender: claim up to `limit` due deliveries in one statement (commit),
    read what sending them needs in a few queries, send them (the channels' sessions held by
    the caller are reused), record the outcomes set-based (commit). Returns {delivery id: what
    became of it} for the deliveries claimed.

    The claim is committed before any provider is called, so a second sender finds the
    deliveries taken; one that dies before recording leaves lapsed leases that the next batch
    of any sender takes back (at most one extra send, never a lost one). A batch still sending
    when half its lease has passed (a slow relay) sends no more: the rest go back to the queue,
    so no lease lapses while its sender is alive."""
    now = utcnow()
    deadline = clock.monotonic() + LEASE.total_seconds() / 2
    claimed = _claim_batch(limit, now, ids)
    db.session.commit()
    if not claimed:
        return {}
    plan = _plan(claimed, now)
    db.session.commit()  # nothing written: ends the reading transaction before the sends
    results: dict[int, tuple[SendResult, str | None]] = {}
    for channel_name, items in plan.sending.items():
        for (outgoing, _), result in zip(
            items, _send_on(channel_name, items, deadline), strict=True
        ):
            results[outgoing.delivery_id] = (result, outgoing.address)
    outcomes = _record_batch(claimed, plan, results, utcnow())
    db.session.commit()
    return outcomes


def _claim_batch(limit: int, now: datetime, ids: list[int] | None) -> list:
    """Take back lapsed claims, then claim the due deliveries (queued → sending, with a lease
    and one more attempt) in one UPDATE … RETURNING. On PostgreSQL the candidates are locked
    with SKIP LOCKED, so concurrent senders claim disjoint batches without waiting; on SQLite
    the unit of work holds the write lock (a writing unit begins IMMEDIATE)."""
    lapsed = select(Delivery.id).where(Delivery.status == "sending", Delivery.claimed_until < now)
    due = select(Delivery.id).where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
    if ids is not None:
        lapsed = lapsed.where(Delivery.id.in_(ids))
        due = due.where(Delivery.id.in_(ids))
    due = due.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
    if is_postgres():
        lapsed = lapsed.with_for_update(skip_locked=True)
        due = due.with_for_update(skip_locked=True)
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(lapsed.scalar_subquery()), Delivery.status == "sending")
        .values(status="queued", claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()), Delivery.status == "queued")
        .values(status="sending", claimed_until=now + LEASE, attempts=Delivery.attempts + 1)
        .returning(
            Delivery.id,
            Delivery.notification_id,
            Delivery.user_id,
            Delivery.kind,
            Delivery.channel,
            Delivery.attempts,
            Delivery.content,
        )
        .execution_options(synchronize_session=False)
    ).all()


@dataclass
class _Plan:
    """What a claimed batch comes to before anything is sent."""

    # channel → [(outgoing, content)] to send, in claim order
    sending: dict[str, list] = field(default_factory=dict)
    deferred: dict[int, datetime] = field(default_factory=dict)  # delivery id → resume at
    suppressed: dict[int, tuple[str | None, str]] = field(default_factory=dict)  # id → addr, why


def _plan(claimed: list, now: datetime) -> _Plan:
    """Read what the batch needs — notifications, quiet hours, addresses, suppressions,
    consents — in one query each, and sort the deliveries into sending, deferred (quiet hours)
    and suppressed (a suppressed address, a marketing consent withdrawn since queueing)."""
    plan = _Plan()
    notifications = {
        row.id: row
        for row in db.session.execute(
            select(
                Notification.id,
                Notification.title,
                Notification.body,
                Notification.data,
                Notification.dedupe_key,
            ).where(Notification.id.in_({row.notification_id for row in claimed}))
        )
    }
    policies = {row.kind: policy_for(row.kind) for row in claimed}
    quiet_users = {
        row.user_id for row in claimed if _quiet(row.channel) and not policies[row.kind].urgent
    }
    quiet = _quiet_ends(quiet_users, now)
    addresses = _addresses(claimed)
    # The recipients' languages, for the email templates: one query, not one per message.
    locales = locales_of({row.user_id for row in claimed if row.channel == "email"})
    suppressed = _suppressed_addresses(
        {
            (row.channel, a.lower())
            for row in claimed
            if (a := addresses.get((row.channel, row.user_id)))
        }
    )
    topics = {policy.topic for policy in policies.values() if policy.topic}
    consenting = _consenting({row.user_id for row in claimed if policies[row.kind].topic}, topics)
    for row in claimed:
        policy = policies[row.kind]
        if row.user_id in quiet and _quiet(row.channel) and not policy.urgent:
            plan.deferred[row.id] = quiet[row.user_id]
            continue
        address = addresses.get((row.channel, row.user_id))
        if address and (row.channel, address.lower()) in suppressed:
            plan.suppressed[row.id] = (address, "the address is suppressed")
            continue
        if policy.topic and (row.user_id, policy.topic) not in consenting:
            plan.suppressed[row.id] = (None, f"no current consent to {policy.topic}")
            continue
        notification = notifications.get(row.notification_id)
        if notification is None:
            plan.suppressed[row.id] = (None, "the notification is gone")
            continue
        outgoing = Outgoing(
            delivery_id=row.id,
            notification_id=row.notification_id,
            user_id=row.user_id,
            kind=row.kind,
            channel=row.channel,
            title=notification.title,
            body=notification.body,
            data=dict(notification.data or {}),
            dedupe_key=notification.dedupe_key or f"delivery:{row.id}",
            policy=policy,
            address=address,
            locale=locales.get(row.user_id),
        )
        content = dict(row.content) if row.content else None
        plan.sending.setdefault(row.channel, []).append((outgoing, content))
    return plan


def _quiet(channel_name: str) -> bool:
    channel = CHANNELS.get(channel_name)
    return channel is not None and channel.quiet


def _quiet_ends(user_ids: set[int], now: datetime) -> dict[int, datetime]:
    """{user id: the end of their quiet hours} for the users in them at `now`."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(
            DeliverySettings.user_id,
            DeliverySettings.time_zone,
            DeliverySettings.quiet_start,
            DeliverySettings.quiet_end,
        ).where(
            DeliverySettings.user_id.in_(user_ids),
            DeliverySettings.quiet_start.is_not(None),
            DeliverySettings.quiet_end.is_not(None),
        )
    )
    ends = {
        row.user_id: quiet_end_after(now, row.time_zone, row.quiet_start, row.quiet_end)
        for row in rows
    }
    return {user_id: end for user_id, end in ends.items() if end is not None}


def _addresses(claimed: list) -> dict[tuple[str, int], str | None]:
    """{(channel, user id): address} for the channels that write to an address."""
    found: dict[tuple[str, int], str | None] = {}
    users_by_channel: dict[str, set[int]] = {}
    for row in claimed:
        users_by_channel.setdefault(row.channel, set()).add(row.user_id)
    for name, user_ids in users_by_channel.items():
        channel = CHANNELS.get(name)
        if channel is None or channel.address is None:
            continue
        if channel.addresses is not None:
            many = channel.addresses(sorted(user_ids))
        else:
            many = {user_id: channel.address(user_id) for user_id in user_ids}
        found.update({(name, user_id): many.get(user_id) for user_id in user_ids})
    return found


def _suppressed_addresses(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if not pairs:
        return set()
    rows = db.session.execute(
        select(Suppression.channel, Suppression.address).where(
            Suppression.channel.in_({channel for channel, _ in pairs}),
            Suppression.address.in_({address for _, address in pairs}),
        )
    )
    return {(row.channel, row.address) for row in rows} & pairs


def _consenting(user_ids: set[int], topics: set[str]) -> set[tuple[int, str]]:
    if not user_ids or not topics:
        return set()
    rows = db.session.execute(
        select(Consent.user_id, Consent.topic).where(
            Consent.user_id.in_(user_ids),
            Consent.topic.in_(topics),
            Consent.granted_at.is_not(None),
            Consent.withdrawn_at.is_(None),
        )
    )
    return {(row.user_id, row.topic) for row in rows}


def _send_on(channel_name: str, items: list, deadline: float) -> list[SendResult]:
    """Send the batch's deliveries of one channel; a channel's bug must not strand a claim.
    After `deadline` (monotonic) the rest are released unsent."""
    channel = CHANNELS.get(channel_name)
    if channel is None:
        return [SendResult("temporary", error=f"no channel {channel_name}")] * len(items)
    if clock.monotonic() > deadline:
        return [_RELEASED] * len(items)
    if channel.send_many is not None:
        try:
            return channel.send_many(items)
        except Exception as error:
            log.exception("channel %s failed for a batch", channel_name)
            return [_crashed(error)] * len(items)
    results = []
    for outgoing, content in items:
        if clock.monotonic() > deadline:
            results.append(_RELEASED)
            continue
        try:
            results.append(channel.send(outgoing, content))
        except Exception as error:
            log.exception("channel failed for delivery %s", outgoing.delivery_id)
            results.append(_crashed(error))
    return results


# Not sent: the batch ran out of time (its lease half gone); queued again, no attempt spent.
_RELEASED = SendResult("released", error="not sent: its batch ran past half its lease")


def _crashed(error: Exception) -> SendResult:
    return SendResult("temporary", error=f"{type(error).__name__}: {error}"[:2000])


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: MAIL_RETRY_BASE_SECONDS doubled each
    time, at most a day."""
    seconds = mail_settings().retry_base_seconds * 2 ** max(0, attempts - 1)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


_table = Delivery.__table__
# One statement for every delivery of a batch with the same outcome (executemany); a delivery
# another sender has sent meanwhile (our claim lapsed) stays sent.
_RECORD = (
    _table.update()
    .where(_table.c.id == bindparam("b_id"), _table.c.status != "sent")
    .values(
        status=bindparam("b_status"),
        claimed_until=None,
        attempts=_table.c.attempts - bindparam("b_undo"),
        next_attempt_at=func.coalesce(
            bindparam("b_next", type_=UTCDateTime()), _table.c.next_attempt_at
        ),
        address=func.coalesce(bindparam("b_address", type_=String()), _table.c.address),
        last_error=bindparam("b_error"),
        provider_message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_sent_at", type_=UTCDateTime()),
    )
)


def _record_batch(claimed: list, plan: _Plan, results: dict, now: datetime) -> dict[int, str]:
    """Record every outcome of the batch (one executemany UPDATE per shape of outcome) and
    suppress the addresses that failed permanently; returns {delivery id: status}."""
    settings = mail_settings()
    rows = []
    suppress_rows = []
    for row in claimed:
        record = {
            "b_id": row.id,
            "b_undo": 0,
            "b_next": None,
            "b_address": None,
            "b_error": None,
            "b_message_id": None,
            "b_sent_at": None,
        }
        if row.id in plan.deferred:
            # Not an attempt: it waits for the end of the quiet hours.
            record.update(b_status="queued", b_undo=1, b_next=plan.deferred[row.id])
            rows.append((record, "deferred"))
            continue
        if row.id in plan.suppressed:
            address, reason = plan.suppressed[row.id]
            record.update(b_status="suppressed", b_address=address, b_error=reason)
            rows.append((record, "suppressed"))
            continue
        result, address = results[row.id]
        record["b_address"] = result.address or address
        if result.status == "released":
            record.update(b_status="queued", b_undo=1, b_error=result.error)
        elif result.status == "sent":
            record.update(b_status="sent", b_sent_at=now, b_message_id=result.provider_message_id)
        elif result.status == "temporary":
            record["b_error"] = result.error or "temporary failure"
            if row.attempts >= settings.max_attempts:
                record["b_status"] = "failed"
            else:
                record.update(b_status="queued", b_next=now + backoff(row.attempts))
        elif result.status == "permanent":
            record.update(b_status="failed", b_error=result.error or "permanent failure")
            if record["b_address"]:
                suppress_rows.append((row.channel, record["b_address"], record["b_error"], row.id))
        elif result.status == "no_device":
            record.update(b_status="suppressed", b_error="no device")
        else:
            record.update(b_status="failed", b_error=result.error or result.status)
        rows.append((record, record["b_status"]))
    if rows:
        db.session.execute(_RECORD, [record for record, _ in rows])
    for channel, address, reason, delivery_id in suppress_rows:
        suppress(channel, address, reason, delivery_id)
    outcomes = {record["b_id"]: outcome for record, outcome in rows}
    if len(claimed) == 1 and outcomes:
        # A single delivery (send_one) reports what it is now, as before: a record skipped
        # because another sender sent it meanwhile reads sent.
        only = claimed[0].id
        status = db.session.scalar(select(Delivery.status).where(Delivery.id == only))
        if status == "sent":
            outcomes[only] = "sent"
    return outcomes


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
