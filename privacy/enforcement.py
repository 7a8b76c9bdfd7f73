"""Retention enforced: for each rule that deletes, the rows due at an instant, removed a batch
at a time, each batch committed with the run's counts.

Each kind names its rows by a key in ascending order (a file's, a check's, a notification's
id) and walks them once per run (keyset: `key > last`), so a million due rows cost a thousand
small statements, never a million objects in memory or a lock held for long. What is due is
decided in the locking statement itself (FOR NO KEY UPDATE, re-checked by PostgreSQL when it
waited), and a removed row no longer matches: a rerun removes nothing more. A file still
needed stays: a work report's while its job has a ticket, a dispute or a chargeback open, a
ticket's attachment while a follow-up of the ticket is open.

Call `enforce` from a task or a command, never from a request: it commits after each batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, String, and_, cast, delete, exists, or_, select, update
from sqlalchemy.orm import aliased

from accounts.models import StaffAlertDigest
from crowd.core.background import OutboxMessage
from crowd.core.db import commit, db, utcnow
from crowd.core.files.models import StoredFile
from crowd.core.files.service import (
    DATA_EXPORT,
    SIGNATURE,
    TICKET_ATTACHMENT,
    WORK_PHOTO,
    discard_many,
)
from jobs.models import Job, WorkReportFile
from notifications.models import Delivery, Notification, OutboundEmail, Suppression
from onboarding.models import DocumentCheck
from payouts.models.job_payments import JobPayment
from privacy.models import RetentionRule, RetentionRun
from support.models import Ticket, TicketMessage, TicketMessageFile

log = logging.getLogger(__name__)

# Rows per statement and commit.
BATCH = 500


@dataclass(frozen=True)
class Kind:
    """One enforced rule: its due rows' keys (ascending, after `last`, at most `limit`, locked
    when asked) and their removal (returns how many it deleted)."""

    name: str
    due: Callable[[datetime, int, int, bool], list[int]]
    remove: Callable[[list[int], datetime], int]


def _keys(query: Select, key, last: int, limit: int, lock: bool, of=None) -> list[int]:
    query = query.where(key > last).order_by(key).limit(limit)
    if lock:
        query = query.with_for_update(of=of, key_share=True)
    return list(db.session.scalars(query))


# --- identity document images: the check's decision is kept, the images go -----------------

CHECK_FILES = (
    DocumentCheck.front_file_id,
    DocumentCheck.back_file_id,
    DocumentCheck.selfie_file_id,
)


def _due_check_images(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    query = select(DocumentCheck.id).where(
        DocumentCheck.status.in_(("verified", "rejected")),
        DocumentCheck.checked_at <= cutoff,
        DocumentCheck.images_deleted_at.is_(None),
        or_(*(column.is_not(None) for column in CHECK_FILES)),
    )
    return _keys(query, DocumentCheck.id, last, limit, lock)


def _remove_check_images(check_ids: list[int], now: datetime) -> int:
    rows = db.session.execute(select(*CHECK_FILES).where(DocumentCheck.id.in_(check_ids))).all()
    file_ids = [file_id for row in rows for file_id in row if file_id is not None]
    deleted = discard_many(file_ids, now=now)
    db.session.execute(
        update(DocumentCheck)
        .where(DocumentCheck.id.in_(check_ids))
        .values(images_deleted_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(deleted)


# --- files linked elsewhere: due by their owner's clock, kept while still needed -------------


def _remove_files(file_ids: list[int], now: datetime) -> int:
    return len(discard_many(file_ids, now=now))


def _held(*purposes: str) -> Select:
    """The files of these purposes not deleted yet (ix_stored_files_held_purpose)."""
    return select(StoredFile.id).where(
        StoredFile.purpose.in_(purposes), StoredFile.status != "deleted"
    )


def _due_work_report_files(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    open_chargeback = exists().where(
        JobPayment.job_id == Job.id,
        JobPayment.dispute_id.is_not(None),
        JobPayment.dispute_closed_at.is_(None),
    )
    open_ticket = exists().where(Ticket.job_id == Job.id, Ticket.status != "closed")
    query = (
        _held(WORK_PHOTO, SIGNATURE)
        .join(WorkReportFile, WorkReportFile.file_id == StoredFile.id)
        .join(Job, Job.id == WorkReportFile.job_id)
        .where(
            # Closed (confirmed, and the dispute window over) or cancelled: final states.
            or_(
                and_(Job.status == "closed", Job.closed_at <= cutoff),
                and_(Job.status == "cancelled", Job.cancelled_at <= cutoff),
            ),
            ~open_chargeback,
            ~open_ticket,
        )
    )
    return _keys(query, StoredFile.id, last, limit, lock, of=StoredFile)


def _due_ticket_attachments(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    follow_up = aliased(Ticket)
    open_follow_up = exists().where(
        follow_up.follow_up_of_id == Ticket.id, follow_up.status != "closed"
    )
    query = (
        _held(TICKET_ATTACHMENT)
        .join(TicketMessageFile, TicketMessageFile.file_id == StoredFile.id)
        .join(TicketMessage, TicketMessage.id == TicketMessageFile.message_id)
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(Ticket.status == "closed", Ticket.closed_at <= cutoff, ~open_follow_up)
    )
    return _keys(query, StoredFile.id, last, limit, lock, of=StoredFile)


def _due_data_exports(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    query = _held(DATA_EXPORT).where(StoredFile.created_at <= cutoff)
    return _keys(query, StoredFile.id, last, limit, lock)


def _due_abandoned_uploads(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    query = select(StoredFile.id).where(
        StoredFile.status.in_(("pending", "rejected")), StoredFile.created_at <= cutoff
    )
    return _keys(query, StoredFile.id, last, limit, lock)


# --- the inbox: entries with their deliveries and rendered emails ----------------------------


def _due_notifications(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    # A delivery still on its way keeps its notification until it is sent or given up.
    in_flight = exists().where(
        Delivery.notification_id == Notification.id, Delivery.status.in_(("queued", "sending"))
    )
    query = select(Notification.id).where(Notification.created_at <= cutoff, ~in_flight)
    return _keys(query, Notification.id, last, limit, lock)


def _remove_notifications(notification_ids: list[int], now: datetime) -> int:
    delivery_ids = list(
        db.session.scalars(
            select(Delivery.id).where(Delivery.notification_id.in_(notification_ids))
        )
    )
    plain = {"synchronize_session": False}
    if delivery_ids:
        # A suppression outlives the delivery that caused it: the address still bounces.
        db.session.execute(
            update(Suppression)
            .where(Suppression.delivery_id.in_(delivery_ids))
            .values(delivery_id=None)
            .execution_options(**plain)
        )
        db.session.execute(
            delete(OutboundEmail)
            .where(OutboundEmail.delivery_id.in_(delivery_ids))
            .execution_options(**plain)
        )
        db.session.execute(
            delete(Delivery).where(Delivery.id.in_(delivery_ids)).execution_options(**plain)
        )
    # A digest's record stays (it keeps the next run from sending it again), without its entry.
    db.session.execute(
        update(StaffAlertDigest)
        .where(StaffAlertDigest.notification_id.in_(notification_ids))
        .values(notification_id=None)
        .execution_options(**plain)
    )
    result = db.session.execute(
        delete(Notification).where(Notification.id.in_(notification_ids)).execution_options(**plain)
    )
    return result.rowcount or 0


# --- background work: a done task's arguments -------------------------------------------------

EMPTY = "{}"


def _due_background_work(cutoff: datetime, last: int, limit: int, lock: bool) -> list[int]:
    query = select(OutboxMessage.id).where(
        OutboxMessage.status == "done",
        OutboxMessage.done_at <= cutoff,
        cast(OutboxMessage.kwargs, String) != EMPTY,
    )
    return _keys(query, OutboxMessage.id, last, limit, lock)


def _empty_background_work(message_ids: list[int], now: datetime) -> int:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .values(kwargs={})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("identity_document_images", _due_check_images, _remove_check_images),
        Kind("work_report_files", _due_work_report_files, _remove_files),
        Kind("ticket_attachments", _due_ticket_attachments, _remove_files),
        Kind("data_exports", _due_data_exports, _remove_files),
        Kind("abandoned_uploads", _due_abandoned_uploads, _remove_files),
        Kind("notifications", _due_notifications, _remove_notifications),
        Kind("background_work", _due_background_work, _empty_background_work),
    )
}


@dataclass
class Outcome:
    """What one rule did (or would do, in a dry run) at an instant."""

    kind: str
    action: str
    keep_days: int
    cutoff: datetime
    count: int = 0


@dataclass
class Enforcement:
    """A run's result: per rule, in the rules' order; the run's id unless a dry run."""

    as_of: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    run_id: int | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {o.kind: o.count for o in self.outcomes if o.action != "keep"}


def _rules() -> list[RetentionRule]:
    return list(db.session.scalars(select(RetentionRule).order_by(RetentionRule.kind)))


def enforce(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    cause: str = "schedule",
    batch: int = BATCH,
) -> Enforcement:
    """Apply every rule at `now` (default: the clock). A dry run counts what is due and
    changes nothing; a real run records itself in `retention_runs` and commits after each
    batch. Rules whose action is keep are reported, never enforced."""
    now = now or utcnow()
    result = Enforcement(as_of=now, dry_run=dry_run)
    rules = _rules()
    run = None
    if not dry_run:
        run = RetentionRun(started_at=utcnow(), as_of=now, counts={}, total=0, cause=cause)
        db.session.add(run)
        commit()
        result.run_id = run.id
    for rule in rules:
        outcome = Outcome(
            rule.kind, rule.action, rule.keep_days, now - timedelta(days=rule.keep_days)
        )
        result.outcomes.append(outcome)
        if rule.action == "keep":
            continue
        kind = KINDS.get(rule.kind)
        if kind is None:
            log.warning("retention rule %s has no enforcement; skipped", rule.kind)
            continue
        last = 0
        while True:
            keys = kind.due(outcome.cutoff, last, batch, not dry_run)
            if not keys:
                break
            last = keys[-1]
            if dry_run:
                outcome.count += len(keys)
            else:
                outcome.count += kind.remove(keys, now)
                run.counts = result.counts
                run.total = sum(run.counts.values())
                commit()
            if len(keys) < batch:
                break
        log.info(
            "retention %s: %s %d (older than %s)",
            rule.kind,
            "due" if dry_run else "deleted",
            outcome.count,
            outcome.cutoff.isoformat(),
        )
    if run is not None:
        run.counts = result.counts
        run.total = sum(run.counts.values())
        run.finished_at = utcnow()
        commit()
        log.info("retention run %s finished: %s", run.id, run.counts)
    return result
