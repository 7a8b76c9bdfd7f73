"""Declarative base, column types and the unit of work shared by every domain.

A request is one unit of work (crowd.core.unit_of_work); a background task is another
(crowd.core.background). Either one that loses a race in the database — a deadlock (SQLSTATE
40P01), a serialization failure (40001), or SQLite's "database is locked" (write requests on
SQLite take the write lock when they begin, so this is rare) — is rolled back and run again from
its start, up to CONTENTION_ATTEMPTS runs with a short jittered pause between them
(RetryOnContention for requests, crowd.core.background.retry_on_contention for tasks). A request
that loses every run answers 503 with the problem type `contention` ("Busy, try again",
Retry-After: 1): nothing was saved, so the client sends it again (with the same Idempotency-Key,
if any). A database that is not reachable stays the other 503, `service-unavailable`, and is not
retried. The rows a unit of work locks, and in which order: crowd.core.locking.

What a lost run did is undone with its transaction (rows, outbox messages, the idempotency
record, a staff action's audit entry). What it did outside the transaction is safe to repeat:
the rate limit counted the request on its first run only; authentication's coarse
last-used stamp is a timestamp; background work is handed over only after a commit; a
refused staff attempt is audited once, with the final answer. Views call the payment provider
only idempotently (a connected account is created under a key derived from the member; a
fresh onboarding link per run is harmless), and the tasks that move money (authorise,
capture, refund, payout) send keys derived from the job, the attempt, the refund or the
payout, so a task run again gets the provider's first answer.
"""

from __future__ import annotations

import io
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, any_, bindparam, event, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from crowd.core.request_ids import REQUEST_ID_KEY

log = logging.getLogger(__name__)

# Stable constraint names so Alembic autogenerate and `flask db check` agree on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT keys on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _real_now() -> datetime:
    return datetime.now(UTC)


# What utcnow() asks. Only the demo's history replay (demo.clock, in `flask crowd seed-demo`'s
# own process) swaps it, through use_clock(); the application never does.
_now: Callable[[], datetime] = _real_now


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC: every part of the application reads it here."""
    return _now()


@contextmanager
def use_clock(now: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, utcnow() answers `now()` (aware UTC); the real clock is restored after.

    For the demo's history replay only (it runs in its own process and moves time step by
    step); not thread-aware, and never to be used while serving requests or tasks.
    """
    global _now
    previous = _now
    _now = now
    try:
        yield
    finally:
        _now = previous


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both PostgreSQL and SQLite (which stores naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Unbound until create_app() (crowd.extensions re-exports it with the other extensions).
db = SQLAlchemy(model_class=Base)


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
    )


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def among(column, ids: list[int]):
    """SQL: `column` is one of the integer `ids` — on PostgreSQL one array parameter (thousands
    of IN placeholders cost more to render and send), elsewhere a plain IN."""
    if is_postgres():
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return column.in_(ids)


# Run after every commit(): the outbox hands newly queued work to the runner
# (crowd.core.background adds it).
_AFTER_COMMIT: list[Callable[[], None]] = []


def after_commit(hook: Callable[[], None]) -> None:
    if hook not in _AFTER_COMMIT:
        _AFTER_COMMIT.append(hook)


def commit() -> None:
    """Commit the unit of work, then hand newly queued background work to the runner."""
    db.session.commit()
    for hook in _AFTER_COMMIT:
        hook()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --- contention: a unit of work that lost a race in the database runs again -------------------

# Deadlock detected, serialization failure; and SQLite's SQLITE_BUSY ("database is locked"),
# which it raises at once, without waiting, when a transaction that read first wants to write
# after another one wrote (its snapshot is stale).
CONTENTION_SQLSTATES = frozenset({"40P01", "40001"})
SQLITE_BUSY = 5
# Runs of one unit of work in all (the first and the retries), and the pause before a retry:
# BACKOFF_SECONDS × 2^(retry − 1), jittered between half and all of it.
CONTENTION_ATTEMPTS = 4
BACKOFF_SECONDS = 0.05
# Set in a request's environ by the error handler when its unit of work lost such a race.
CONTENTION = "crowd.contention"
_RETRIES_LEFT = "crowd.contention.retries_left"
_ATTEMPT = "crowd.contention.attempt"


def is_contention(error: BaseException) -> bool:
    """Whether `error` is a lost race (deadlock, serialization failure): worth running again."""
    original = getattr(error, "orig", None)
    # The primary result code: SQLITE_BUSY_SNAPSHOT and its kin carry it in the low byte.
    if (getattr(original, "sqlite_errorcode", None) or 0) & 0xFF == SQLITE_BUSY:
        return True
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return state in CONTENTION_SQLSTATES


def contention_backoff(retry: int) -> float:
    """Seconds to wait before retry number `retry` (1, 2, …): short, growing and jittered."""
    ceiling = BACKOFF_SECONDS * 2 ** (retry - 1)
    return random.uniform(ceiling / 2, ceiling)


def will_retry() -> bool:
    """Whether this request lost a race and is about to run again (its answer is discarded)."""
    if not has_request_context():
        return False
    environ = request.environ
    return bool(environ.get(CONTENTION)) and environ.get(_RETRIES_LEFT, 0) > 0


def is_retry() -> bool:
    """Whether this request is a run again after a lost race (rate limits counted it once)."""
    return has_request_context() and request.environ.get(_ATTEMPT, 1) > 1


class RetryOnContention:
    """WSGI middleware: a request whose unit of work lost a race runs again, from the start.

    Each run gets a fresh copy of the original environ and the same body, so everything a
    view does — authentication, the idempotency check, the audit entry, the outbox — happens
    anew in a fresh transaction; only the request id stays, so the logs tie the runs
    together. A body that cannot be replayed (streamed without a length, or over the size
    limit, which the app refuses anyway) gets one run.
    """

    def __init__(self, wsgi_app, max_body_bytes: int | None) -> None:
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ, start_response):
        body = self._body(environ)
        attempts = CONTENTION_ATTEMPTS if body is not None else 1
        carried = {}
        for attempt in range(1, attempts + 1):
            run = {**environ, **carried}
            if body is not None:
                run["wsgi.input"] = io.BytesIO(body)
            run[_ATTEMPT] = attempt
            run[_RETRIES_LEFT] = attempts - attempt
            captured = []
            result = self.wsgi_app(run, lambda *args, into=captured: into.append(args))
            if not run.get(CONTENTION) or attempt == attempts:
                start_response(*captured[0])
                return result
            if hasattr(result, "close"):
                result.close()
            if run.get(REQUEST_ID_KEY):
                carried[REQUEST_ID_KEY] = run[REQUEST_ID_KEY]
            time.sleep(contention_backoff(attempt))
        raise AssertionError("unreachable")  # the last attempt always returns

    def _body(self, environ) -> bytes | None:
        """The request body, read once so that every run gets it; None when not replayable."""
        length = environ.get("CONTENT_LENGTH")
        if not length:
            # No length: no body, unless a chunked one is streamed through.
            chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
            return None if chunked else b""
        try:
            size = int(length)
        except ValueError:
            return None
        if size < 0 or (self.max_body_bytes is not None and size > self.max_body_bytes):
            return None
        return environ["wsgi.input"].read(size)


def configure_engine(engine) -> None:
    """SQLite: real transactions (SAVEPOINT works), foreign keys enforced, WAL for readers, and
    every unit of work that may write (a write request, a background task) takes the write lock
    up front."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A unit of work that may write takes the write lock when it begins: a second writer
        # then waits (busy_timeout) and reads what the first one committed, instead of failing
        # at once when it first reads and then wants to write after the other committed (its
        # snapshot is stale: SQLITE_BUSY_SNAPSHOT does not wait). Reads stay concurrent (WAL).
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")


# Set while a background unit of work runs (crowd.core.background.retry_on_contention): a task
# writes, so on SQLite it takes the write lock when its transaction begins, as a write request
# does. Per thread (and per context), so an inline task in a request's thread or in the
# scheduler's thread marks only its own transactions.
_WRITING_UNIT: ContextVar[bool] = ContextVar("crowd_writing_unit", default=False)


@contextmanager
def writing_unit() -> Iterator[None]:
    """Transactions begun inside are a unit of work that writes (see configure_engine)."""
    token = _WRITING_UNIT.set(True)
    try:
        yield
    finally:
        _WRITING_UNIT.reset(token)


def _may_write() -> bool:
    """A request other than GET, HEAD or OPTIONS, or a background unit of work. Anything else
    outside a request (a command, a test reading what happened) begins deferred, reads from
    its snapshot and takes the lock only when it first writes."""
    if _WRITING_UNIT.get():
        return True
    return has_request_context() and request.method not in SAFE_METHODS
