"""Background work through a transactional outbox, relayed to RQ after commit or run inline.

`enqueue("task.name", key=…, **kwargs)` writes an OutboxMessage in the caller's transaction,
so work is recorded exactly when the data it concerns is. After the commit, `relay_committed`
hands the new messages to RQ (with `REDIS_URL`) or runs them inline (without). A message that
could not be handed over stays `pending`; the periodic `relay_outbox` job retries it, so a
crash or a Redis outage between commit and enqueue loses nothing. The same job hands over
again the `enqueued` messages that Redis or a worker lost (Redis restarted empty, a worker
killed mid-task: see `reclaim_lost_messages`). Running a message locks its row and marks it
`done` in the same transaction as the task's own writes, so a message that is delivered
twice (a worker killed after the commit, a relay retry) has its effect once, and a worker
killed before the commit leaves no trace of its attempt. A run that loses a race in the
database (deadlock, serialization failure) is rolled back and run again at once, a few times
(retry_on_contention), before it counts as a failed attempt.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import JSON, Integer, String, Text, inspect, select, update
from sqlalchemy.orm import Mapped, mapped_column

from crowd import create_app
from crowd.core.db import (
    CONTENTION_ATTEMPTS,
    Base,
    IdMixin,
    UTCDateTime,
    after_commit,
    commit,
    contention_backoff,
    db,
    is_contention,
    is_postgres,
    utcnow,
    writing_unit,
)
from crowd.core.idempotency import purge_expired
from crowd.core.locking import ROW_LOCK
from crowd.schedule import PERIODIC

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
T = TypeVar("T")
_SESSION_KEY = "crowd_outbox_new"
# How long an RQ job may have been started without its worker holding the message's row lock
# before the message counts as lost (the worker takes the lock first thing when it begins).
STARTED_GRACE = timedelta(seconds=10)
# RQ job states after which the job will not run (again) by itself.
_JOB_GONE = ("finished", "failed", "stopped", "canceled")


class OutboxMessage(IdMixin, Base):
    """A unit of background work, written in the same transaction as the data it concerns."""

    __tablename__ = "outbox_messages"

    task: Mapped[str] = mapped_column(String(100), nullable=False)
    kwargs: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # pending → enqueued → done, or failed after MAX_ATTEMPTS.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Task:
    name: str
    func: Callable[..., object]


TASKS: dict[str, Task] = {}


def task(name: str):
    """Register a function as a background task. Tasks take ids and plain values, not objects."""

    def decorator(func):
        TASKS[name] = Task(name, func)
        return func

    return decorator


def enqueue(
    task_name: str,
    *,
    delay: timedelta | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    **kwargs,
) -> OutboxMessage:
    """Record background work in the current transaction; it runs after the commit."""

    if task_name not in TASKS:
        raise KeyError(f"unknown task {task_name!r}")
    when = run_at or (utcnow() + delay if delay else utcnow())
    message = OutboxMessage(
        task=task_name, kwargs=kwargs, run_after=when, dedupe_key=dedupe_key, status="pending"
    )
    db.session.add(message)
    # With its due time: after the commit the message's attributes are expired, and reading
    # them back would cost a query each.
    db.session.info.setdefault(_SESSION_KEY, []).append((message, when))
    return message


def _settings():
    return current_app.config["CROWD_SETTINGS"]


# One client (and connection pool) per process and URL; a forked process makes its own.
_CLIENTS: dict[tuple[int, str], object] = {}
_QUEUES: dict[tuple[int, str, str], object] = {}


def redis_connection():
    """This process's Redis client for REDIS_URL (pooled connections, reconnects by itself)."""

    url = _settings().redis_url
    key = (os.getpid(), url)
    client = _CLIENTS.get(key)
    if client is None:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        _CLIENTS[key] = client
    return client


def _rq_queue():
    """The RQ queue, kept per process: RQ asks the server's version once per queue object."""

    settings = _settings()
    key = (os.getpid(), settings.redis_url, settings.rq_queue)
    queue = _QUEUES.get(key)
    if queue is None:
        queue = Queue(settings.rq_queue, connection=redis_connection())
        _QUEUES[key] = queue
    return queue


def relay_committed() -> None:
    """Hand the messages of the transaction just committed to the runner."""

    new = db.session.info.pop(_SESSION_KEY, None)
    if not new:
        return
    now = utcnow()
    # The identity key holds the id without a refresh; a message never flushed has none.
    due = [
        identity[0]
        for identity, when in ((inspect(m).identity, when) for m, when in new)
        if identity is not None and when <= now
    ]
    if not due:
        return
    try:
        deliver(due)
    except Exception:
        # The work is committed, so the caller's answer stands (a request that failed here
        # would be retried and done twice); what was not handed over stays pending for the
        # periodic relay.
        log.exception("handing over %d committed message(s) failed", len(due))
        db.session.rollback()


def discard_uncommitted() -> None:
    """Forget messages of a rolled-back transaction (they were never written)."""

    db.session.info.pop(_SESSION_KEY, None)


def deliver(message_ids: list[int]) -> int:
    """Push pending messages to RQ, or run them inline without Redis. Returns how many went."""
    if _settings().inline_background:
        for message_id in message_ids:
            run_message(message_id)
        return len(message_ids)
    return _push_to_rq(message_ids)


def rq_job_id(message_id: int) -> str:
    return f"{_settings().rq_queue}-outbox-{message_id}"


def _push_to_rq(message_ids: list[int]) -> int:

    try:
        queue = _rq_queue()
        # The job id is derived from the message: pushing twice does not duplicate it. The
        # queue name keeps deployments (or test runs) sharing one Redis apart. One round trip
        # for all of them.
        queue.enqueue_many(
            [
                queue.prepare_data(
                    "crowd.core.background.run_message",
                    args=(message_id,),
                    job_id=rq_job_id(message_id),
                )
                for message_id in dict.fromkeys(message_ids)
            ]
        )
    except Exception as error:  # Redis down: the messages stay pending for the relay job
        log.warning("could not hand %d message(s) to Redis: %s", len(message_ids), error)
        return 0
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == "pending")
        .values(status="enqueued", enqueued_at=utcnow())
    )
    db.session.commit()
    return len(message_ids)


def run_message(message_id: int) -> str:
    """Run one outbox message exactly once in effect. Entry point for RQ workers."""
    if not has_app_context():
        with _worker_app().app_context():
            return run_message(message_id)

    ran: dict[str, str] = {}
    try:
        return retry_on_contention(
            lambda: _run_message_once(message_id, ran), what=f"message {message_id}"
        )
    except Exception:
        db.session.rollback()
        discard_uncommitted()
        error = traceback.format_exc(limit=5)
        log.exception("task %s (message %s) failed", ran.get("task", "?"), message_id)
        with writing_unit():
            _record_failure(message_id, error)
        return "error"


def _run_message_once(message_id: int, ran: dict[str, str]) -> str:
    """One run of a message's task with the message locked, committed with its effect."""

    message = db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if message is None or message.status in ("done", "failed"):
        db.session.rollback()
        return "skipped"
    ran["task"] = message.task
    message.attempts += 1
    TASKS[message.task].func(**message.kwargs)
    message.status, message.done_at, message.last_error = "done", utcnow(), None
    commit()
    return "done"


def retry_on_contention(unit: Callable[[], T], *, what: str) -> T:
    """Run `unit` — a whole unit of work that commits — again from its start when it loses a
    race in the database (deadlock, serialization failure), up to CONTENTION_ATTEMPTS runs in
    all with a short jittered pause; any other error, or the last run's, is raised."""

    with writing_unit():
        for attempt in range(1, CONTENTION_ATTEMPTS):
            try:
                return unit()
            except Exception as error:
                if not is_contention(error):
                    raise
                db.session.rollback()
                discard_uncommitted()
                log.warning("%s lost a race in the database, running it again: %s", what, error)
                time.sleep(contention_backoff(attempt))
        return unit()


def _record_failure(message_id: int, error: str) -> None:

    # Locked and re-read: a second delivery may have run the message meanwhile, or our own
    # commit went through before its acknowledgement was lost. Done stays done.
    message = db.session.get(
        OutboxMessage, message_id, with_for_update=ROW_LOCK, populate_existing=True
    )
    if message is None or message.status == "done":
        db.session.rollback()
        return
    # The attempt counted above was rolled back with the task; count it again here.
    message.attempts += 1
    message.last_error = error[-4000:]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
    else:
        message.status = "pending"
        message.run_after = utcnow() + timedelta(seconds=min(3600, 10 * 2**message.attempts))
    db.session.commit()


def due_message_ids(limit: int = 500) -> list[int]:
    """Pending messages now due: their hand-over failed, or they were scheduled for later."""

    pending = select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.run_after <= utcnow()
    )
    return list(db.session.scalars(pending.order_by(OutboxMessage.id).limit(limit)))


def reclaim_lost_messages(limit: int = 500) -> list[int]:
    """Set back to pending the enqueued messages no worker will run, and return their ids.

    Lost are those whose RQ job is gone (Redis restarted without its data), failed or stopped
    (the work horse was killed, or the database was down when it began), finished without
    the message being done, or started more than STARTED_GRACE ago by a worker that died —
    on PostgreSQL seen at once: a running message's row is locked by its worker until the
    work commits, and the lock goes with the worker's connection. Elsewhere a dead worker's
    job counts as lost once RQ, missing its heartbeats, marks it failed (about 90 s).

    A mistake costs a second delivery, never a second effect: run_message does a message
    once. Without Redis (inline) every enqueued message is a leftover and runs again.
    """

    enqueued = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "enqueued")
            .order_by(OutboxMessage.enqueued_at, OutboxMessage.id)
            .limit(limit)
        )
    )
    if not enqueued:
        return []
    if _settings().inline_background:
        suspects = enqueued
    else:
        try:
            connection = redis_connection()
            StartedJobRegistry(_settings().rq_queue, connection=connection).cleanup()
            jobs = Job.fetch_many([rq_job_id(i) for i in enqueued], connection=connection)
        except Exception as error:  # Redis down: nothing can be judged (nor delivered) now
            log.warning("could not check %d enqueued message(s) in Redis: %s", len(enqueued), error)
            db.session.rollback()
            return []
        started_before = utcnow() - STARTED_GRACE if is_postgres() else None
        suspects = [
            message_id
            for message_id, job in zip(enqueued, jobs, strict=True)
            if _will_not_run(job, started_before)
        ]
    if not suspects:
        db.session.rollback()
        return []
    if is_postgres():
        # A locked message is being run right now (whatever Redis says): leave it alone.
        suspects = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.id.in_(suspects), OutboxMessage.status == "enqueued")
                .with_for_update(skip_locked=True, key_share=True)
            )
        )
    lost = list(
        db.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(suspects), OutboxMessage.status == "enqueued")
            .values(status="pending")
            .returning(OutboxMessage.id)
        )
    )
    db.session.commit()
    if lost:
        log.warning("handing over again %d message(s) lost by Redis or a worker", len(lost))
    return lost


def _will_not_run(job, started_before: datetime | None) -> bool:
    """Whether this RQ job will not run its message; a started one only if it began before
    `started_before` (None: no judging started jobs here)."""
    if job is None:
        return True
    status = job.get_status(refresh=False)
    if status in _JOB_GONE:
        return True
    if status != "started" or started_before is None or job.started_at is None:
        return False
    started_at = job.started_at
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    return started_at < started_before


@task("core.relay_outbox")
def relay_outbox() -> int:
    """Deliver every due message and every lost one (periodic): the net behind relay_committed."""

    ids = due_message_ids()
    db.session.commit()
    ids += reclaim_lost_messages()
    if not ids:
        return 0
    return deliver(ids)


_worker_app_instance = None


def _worker_app():
    global _worker_app_instance
    if _worker_app_instance is None:
        _worker_app_instance = create_app()
    return _worker_app_instance


def run_periodic(task_name: str) -> object:
    """Run a registered task in its own unit of work. Entry point for the cron scheduler."""
    if not has_app_context():
        with _worker_app().app_context():
            return run_periodic(task_name)

    def run_once() -> object:
        result = TASKS[task_name].func()
        commit()
        return result

    try:
        return retry_on_contention(run_once, what=f"periodic task {task_name}")
    except Exception:
        db.session.rollback()
        discard_uncommitted()
        raise


def run_due_periodic(state: dict[str, datetime]) -> list[str]:
    """Run the periodic jobs whose interval has passed (the inline scheduler's tick)."""

    ran = []
    now = utcnow()
    for periodic in PERIODIC:
        last = state.get(periodic.name)
        if last is None or (now - last).total_seconds() >= periodic.every_seconds:
            run_periodic(periodic.task)
            state[periodic.name] = now
            ran.append(periodic.name)
    return ran


@task("core.purge_idempotency")
def purge_idempotency() -> int:

    return purge_expired()


after_commit(relay_committed)
