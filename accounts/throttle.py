"""Per-account sign-in throttling, kept in the database so it holds without Redis.

Consecutive wrong passwords are counted per email address (its SHA-256), with or without an
account behind it, so a locked unknown address answers exactly like a locked account. From the
`threshold`-th failure on the address is locked: `base` seconds, doubling with each further
failure, at most `max`. While locked every attempt gets 429 with Retry-After, the right
password too, and is not verified. A successful sign-in clears the count. The count is one
atomic upsert, so concurrent wrong attempts all count. The per-address limit of Flask-Limiter
(RATE_LIMIT_SIGN_IN) applies on top.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accounts import notices
from accounts.errors import CountedFailure, SignInLocked
from accounts.models import SignInThrottle, User
from crowd.core.db import commit, is_postgres, utcnow
from crowd.core.i18n import _l
from crowd.extensions import db

# Rows of addresses without failures for this long (and not locked) are purged.
STALE_AFTER = timedelta(days=1)


def email_hash(normalised_email: str) -> str:
    return hashlib.sha256(normalised_email.encode()).hexdigest()


def refuse_if_locked(key: str) -> bool:
    """Raise SignInLocked while `key` is locked; True when it has failures on record."""
    row = db.session.execute(
        select(SignInThrottle.failures, SignInThrottle.locked_until).where(
            SignInThrottle.email_hash == key
        )
    ).first()
    if row is None:
        return False
    now = utcnow()
    if row.locked_until is not None and row.locked_until > now:
        raise SignInLocked(retry_after=max(1, math.ceil((row.locked_until - now).total_seconds())))
    return row.failures > 0


def lock_seconds(failures: int) -> int:
    """How long the `failures`-th wrong password in a row locks the address (0: not yet)."""
    settings = current_app.config["CROWD_SETTINGS"]
    over = failures - settings.sign_in_lockout_threshold
    if over < 0:
        return 0
    # The exponent is bounded: a long run of failures must not build a huge integer.
    seconds = settings.sign_in_lockout_base_seconds * 2 ** min(over, 32)
    return min(seconds, settings.sign_in_lockout_max_seconds)


def record_failure(key: str, user: User | None) -> int:
    """Count one wrong password for `key` (atomically) and lock it when due; the count."""
    now = utcnow()
    dialect = postgresql if is_postgres() else sqlite
    statement = (
        dialect.insert(SignInThrottle)
        .values(email_hash=key, failures=1, last_failed_at=now)
        .on_conflict_do_update(
            index_elements=["email_hash"],
            set_={"failures": SignInThrottle.failures + 1, "last_failed_at": now},
        )
        .returning(SignInThrottle.failures)
    )
    failures = db.session.execute(statement).scalar_one()
    seconds = lock_seconds(failures)
    if seconds:
        until = now + timedelta(seconds=seconds)
        # Concurrent failures each lock; a shorter lock never replaces a longer one.
        db.session.execute(
            update(SignInThrottle)
            .where(
                SignInThrottle.email_hash == key,
                or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < until),
            )
            .values(locked_until=until)
        )
        threshold = current_app.config["CROWD_SETTINGS"].sign_in_lockout_threshold
        if failures == threshold and user is not None:
            _tell_owner(user, failures=failures, seconds=seconds)
    return failures


def record_success(key: str) -> None:
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.email_hash == key))


def _tell_owner(user: User, *, failures: int, seconds: int) -> None:
    """The lock engaged: once per run of failures (the count reaches the threshold once)."""
    notices.record(user.id, "sign_in_locked", reason=f"{failures} wrong passwords in a row")
    notices.tell_owner(
        user,
        "sign_in_locked",
        _l("Sign-in to your account was paused"),
        _l(
            "Someone entered a wrong password for your account {failures}"
            " times in a row, so sign-in is paused for {value} minute(s),"
            " longer if it goes on. If it was not you, reset your "
            "password.",
            failures=failures,
            value=seconds // 60 or 1,
        ),
        event_key=f"{user.id}:{utcnow().isoformat()}",
    )


@contextmanager
def keeping_failures() -> Iterator[None]:
    """Around a view: a refused wrong password is committed before the refusal rolls back."""
    try:
        yield
    except CountedFailure:
        commit()
        raise


def purge_stale() -> int:
    """Delete the counts of addresses that are not locked and failed last long ago."""
    now = utcnow()
    result = db.session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.last_failed_at < now - STALE_AFTER,
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < now),
        )
    )
    return result.rowcount or 0
