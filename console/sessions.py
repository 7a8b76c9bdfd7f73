"""Server-side console sessions: the browser holds a random id, the table its hash, so that idle
and absolute timeouts and "sign out everywhere" are decided here, not by the cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from accounts.models import User
from console.config import console_settings
from console.models import ConsoleSession
from crowd.core.db import utcnow
from crowd.extensions import db

# last_seen_at is written at most this often (a page and its fragments in one burst: one write).
TOUCH_EVERY = timedelta(seconds=15)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(
    user: User, *, verified: bool, ip: str | None, user_agent: str | None
) -> tuple[str, ConsoleSession]:
    """A new session for `user` (a fresh random id: nothing set before sign-in survives it);
    the secret for the cookie and the row."""
    secret = "ccs_" + secrets.token_urlsafe(32)
    now = utcnow()
    row = ConsoleSession(
        id_hash=_hash(secret),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        verified_at=now if verified else None,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
    )
    db.session.add(row)
    db.session.flush()
    return secret, row


def find(secret: str | None) -> tuple[ConsoleSession, User] | None:
    """The live session behind a cookie and its user, or None: unknown, revoked, idle past
    CONSOLE_IDLE_TIMEOUT_MINUTES, older than CONSOLE_ABSOLUTE_TIMEOUT_HOURS, or its user
    deactivated or no longer staff."""
    if not secret:
        return None
    found = db.session.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.id_hash == _hash(secret))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or expired(row) or user.disabled_at is not None:
        return None
    if user.role not in ("community_manager", "admin"):
        return None
    return row, user


def expired(row: ConsoleSession) -> bool:
    settings = console_settings()
    now = utcnow()
    return now - row.last_seen_at > timedelta(
        minutes=settings.idle_timeout_minutes
    ) or now - row.created_at > timedelta(hours=settings.absolute_timeout_hours)


def due_for_touch(row: ConsoleSession) -> bool:
    return utcnow() - row.last_seen_at >= TOUCH_EVERY


def touch(row: ConsoleSession) -> None:
    """The session was used now (the idle timeout counts from here)."""
    row.last_seen_at = utcnow()


def mark_verified(row: ConsoleSession) -> None:
    """The second factor passed: the session reaches every page now."""
    row.verified_at = utcnow()


def revoke(row: ConsoleSession) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def revoke_all(user_id: int) -> int:
    """Sign the user out of every console session (this one too); how many were live."""
    result = db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def live_sessions(user_id: int) -> list[ConsoleSession]:
    """The user's sessions that are neither revoked nor timed out, newest first."""
    rows = db.session.scalars(
        select(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .order_by(ConsoleSession.id.desc())
    )
    return [row for row in rows if not expired(row)]


def purge_ended(*, keep_days: int = 30) -> int:
    """Delete sessions that ended (revoked, or past the absolute timeout) over `keep_days`
    ago: recent ones stay, for the account page and the audit trail's session ids."""
    cutoff = utcnow() - timedelta(days=keep_days)
    ended = or_(
        ConsoleSession.revoked_at < cutoff,
        ConsoleSession.created_at
        < cutoff - timedelta(hours=console_settings().absolute_timeout_hours),
    )
    result = db.session.execute(delete(ConsoleSession).where(ended))
    return result.rowcount or 0
