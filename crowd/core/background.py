"""Background work through a transactional outbox, relayed to RQ after commit or run inline.

`enqueue("task.name", key=…, **kwargs)` writes an OutboxMessage in the caller's transaction,
so work is recorded exactly when the data it concerns is. After the commit, `relay_committed`
hands the new messages to RQ (with `REDIS_URL`) or runs them inline (without). A message that
could not be handed over stays `pending`; the periodic `relay_outbox` job retries it, so a
crash or a Redis outage between commit and enqueue loses nothing. Running a message marks it
`done` in the same transaction as the task's own writes, so a message that is delivered
twice (a worker killed after the commit, a relay retry) has its effect once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import JSON, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, IdMixin, UTCDateTime, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
_SESSION_KEY = "crowd_outbox_new"


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


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_seconds: int


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
    from crowd.extensions import db

    if task_name not in TASKS:
        raise KeyError(f"unknown task {task_name!r}")
    when = run_at or (utcnow() + delay if delay else utcnow())
    message = OutboxMessage(
        task=task_name, kwargs=kwargs, run_after=when, dedupe_key=dedupe_key, status="pending"
    )
    db.session.add(message)
    db.session.info.setdefault(_SESSION_KEY, []).append(message)
    return message


def _settings():
    return current_app.config["CROWD_SETTINGS"]


def redis_connection():
    from redis import Redis

    return Redis.from_url(_settings().redis_url, socket_connect_timeout=2, socket_timeout=5)


def _rq_queue():
    from rq import Queue

    return Queue(_settings().rq_queue, connection=redis_connection())


def relay_committed() -> None:
    """Hand the messages of the transaction just committed to the runner."""
    from crowd.extensions import db

    new = db.session.info.pop(_SESSION_KEY, [])
    due = [m.id for m in new if m.id is not None and m.run_after <= utcnow()]
    if due:
        deliver(due)


def discard_uncommitted() -> None:
    """Forget messages of a rolled-back transaction (they were never written)."""
    from crowd.extensions import db

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
    from crowd.extensions import db

    try:
        queue = _rq_queue()
        for message_id in message_ids:
            # The job id is derived from the message: pushing twice does not duplicate it.
            # The queue name keeps deployments (or test runs) sharing one Redis apart.
            queue.enqueue(
                "crowd.core.background.run_message",
                message_id,
                job_id=rq_job_id(message_id),
                retry=None,
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
    from crowd.core.db import commit
    from crowd.extensions import db

    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    ).scalar_one_or_none()
    if message is None or message.status in ("done", "failed"):
        db.session.rollback()
        return "skipped"
    message.attempts += 1
    try:
        TASKS[message.task].func(**message.kwargs)
        message.status, message.done_at, message.last_error = "done", utcnow(), None
        commit()
        return "done"
    except Exception:
        db.session.rollback()
        discard_uncommitted()
        error = traceback.format_exc(limit=5)
        log.exception("task %s (message %s) failed", message_id, message_id)
        _record_failure(message_id, error)
        return "error"


def _record_failure(message_id: int, error: str) -> None:
    from crowd.extensions import db

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
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


def due_message_ids(limit: int = 500, stale_after: timedelta = timedelta(minutes=10)) -> list[int]:
    """Pending messages now due, and enqueued ones that Redis apparently lost."""
    from crowd.extensions import db

    now = utcnow()
    pending = select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.run_after <= now
    )
    lost = select(OutboxMessage.id).where(
        OutboxMessage.status == "enqueued", OutboxMessage.enqueued_at <= now - stale_after
    )
    ids = list(db.session.scalars(pending.order_by(OutboxMessage.id).limit(limit)))
    ids += list(db.session.scalars(lost.order_by(OutboxMessage.id).limit(limit)))
    return ids


@task("core.relay_outbox")
def relay_outbox() -> int:
    """Deliver every due message (periodic): the safety net behind relay_committed."""
    from crowd.extensions import db

    ids = due_message_ids()
    db.session.commit()
    if not ids:
        return 0
    if not _settings().inline_background:
        # Re-pushing an enqueued message is safe: running it is idempotent.
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status="pending")
        )
        db.session.commit()
    return deliver(ids)


_worker_app_instance = None


def _worker_app():
    global _worker_app_instance
    if _worker_app_instance is None:
        from crowd import create_app

        _worker_app_instance = create_app()
    return _worker_app_instance


def run_periodic(task_name: str) -> object:
    """Run a registered task in its own unit of work. Entry point for the cron scheduler."""
    if not has_app_context():
        with _worker_app().app_context():
            return run_periodic(task_name)
    from crowd.core.db import commit
    from crowd.extensions import db

    try:
        result = TASKS[task_name].func()
        commit()
        return result
    except Exception:
        db.session.rollback()
        discard_uncommitted()
        raise


def run_due_periodic(state: dict[str, datetime]) -> list[str]:
    """Run the periodic jobs whose interval has passed (the inline scheduler's tick)."""
    from crowd.schedule import PERIODIC

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
    from crowd.core.idempotency import purge_expired

    return purge_expired()
