"""Timed lifecycle transitions, scheduled as outbox messages so that they survive a restart.

A scheduled message lives in the database until it is due; the relay hands it to a worker
then. Each timer is keyed (dedupe key) by the job and the moment it concerns, so scheduling
the same timer twice records it once, and each task re-checks the job's state when it runs:
a timer that is no longer relevant does nothing. The periodic `jobs.sweep_lifecycle` is the
safety net for anything a message missed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.background import OutboxMessage, enqueue
from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.config import job_rules
from jobs.models import Job

# Reminder kinds and how long before the scheduled start each is sent (from the job rules).
REMINDER_KINDS = ("upcoming",)


def already_queued(dedupe_key: str) -> bool:
    """Whether background work with this key was already recorded (the key is unique)."""
    for pending in db.session.new:
        if isinstance(pending, OutboxMessage) and pending.dedupe_key == dedupe_key:
            return True
    query = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return db.session.scalar(query) is not None


def enqueue_once(task_name: str, *, run_at: datetime, dedupe_key: str, **kwargs) -> bool:
    """Record `task_name` for `run_at` unless work with `dedupe_key` exists; True if recorded."""
    if already_queued(dedupe_key):
        return False
    enqueue(task_name, run_at=run_at, dedupe_key=dedupe_key, **kwargs)
    return True


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def reminder_due_at(job: Job, kind: str = "upcoming") -> datetime | None:
    """When the `kind` reminder of an assigned job is due (None when it has no start)."""
    if job.scheduled_start is None:
        return None
    return job.scheduled_start - timedelta(hours=job_rules().reminder_hours_before)


def schedule_after_assignment(job: Job) -> None:
    """Schedule the reminders of a freshly assigned job (call in the assigning unit of work).

    A reminder whose time has already passed (a same-day job) is not sent: the assignment
    notification is reminder enough.
    """
    if job.scheduled_start is None or job.assigned_member_id is None:
        return
    for kind in REMINDER_KINDS:
        run_at = reminder_due_at(job, kind)
        if run_at is None or run_at <= utcnow():
            continue
        enqueue_once(
            "jobs.remind",
            run_at=run_at,
            # Per assignment: a re-dispatched job gets reminders for its new member and start.
            dedupe_key=(
                f"jobs.remind:{job.id}:{kind}:{job.assigned_member_id}:"
                f"{_stamp(job.scheduled_start)}"
            ),
            job_id=job.id,
            kind=kind,
        )


def auto_confirm_due_at(job: Job) -> datetime:
    """When a completed job confirms itself without the customer."""
    completed_at = job.completed_at or job.status_changed_at
    return completed_at + timedelta(hours=job_rules().auto_confirm_hours)


def schedule_after_completion(job: Job) -> None:
    """Schedule the auto-confirmation of a just completed job (call in the completing unit)."""
    run_at = auto_confirm_due_at(job)
    enqueue_once(
        "jobs.auto_confirm",
        run_at=run_at,
        dedupe_key=f"jobs.auto_confirm:{job.id}:{_stamp(run_at)}",
        job_id=job.id,
    )


def close_due_at(job: Job) -> datetime:
    """When a confirmed job closes: close_after_days after it became confirmed."""
    return job.status_changed_at + timedelta(days=job_rules().close_after_days)


def schedule_close(job: Job) -> None:
    """Schedule closing a just confirmed job."""
    run_at = close_due_at(job)
    enqueue_once(
        "jobs.close",
        run_at=run_at,
        dedupe_key=f"jobs.close:{job.id}:{_stamp(run_at)}",
        job_id=job.id,
    )
