"""Declarative base, column types and the unit of work shared by every domain."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

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


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    from crowd.extensions import db

    return db.engine.dialect.name == "postgresql"


def commit() -> None:
    """Commit the unit of work, then hand newly queued background work to the runner."""
    from crowd.core import background
    from crowd.extensions import db

    db.session.commit()
    background.relay_committed()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def install_unit_of_work(app) -> None:
    """A request is one unit of work: committed once after a successful write, else rolled back.

    Views and services only stage changes; this edge commits them together with the
    idempotency record of the response, so a creation and its replay record land together.
    """
    from flask import request
    from sqlalchemy.exc import IntegrityError, OperationalError

    from crowd.core import background
    from crowd.core.errors import (
        DomainError,
        handle_database_unavailable,
        handle_domain_error,
        handle_integrity_error,
    )
    from crowd.core.idempotency import REQUEST_MARKER, replay_after_race
    from crowd.extensions import db

    @app.after_request
    def _finish_unit_of_work(response):
        if request.method in SAFE_METHODS or response.status_code >= 400:
            db.session.rollback()
            background.discard_uncommitted()
            return response
        try:
            commit()
        except IntegrityError as error:
            background.discard_uncommitted()
            if REQUEST_MARKER in request.environ:
                db.session.rollback()
                # A concurrent request with the same key won: answer as it did.
                try:
                    return replay_after_race()
                except DomainError as conflict:
                    return handle_domain_error(conflict)
            return handle_integrity_error(error)
        except OperationalError as error:
            background.discard_uncommitted()
            return handle_database_unavailable(error)
        return response


def configure_engine(engine) -> None:
    """SQLite: real transactions (SAVEPOINT works), foreign keys enforced, WAL for readers."""
    from sqlalchemy import event

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
        connection.exec_driver_sql("BEGIN")
