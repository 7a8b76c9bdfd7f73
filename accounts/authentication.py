"""Who is calling: a bearer secret resolved to a `Principal` with one query per request.

The core (crowd.core.auth) calls `principal_for` through the authenticator this package
installs (accounts.wiring). A principal carries the caller's profiles (member_id,
customer_id): the packages that own them add a correlated subquery each (`add_profile`, from
their own wiring), so this package names none of them and the lookup stays one round trip.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, select, update
from sqlalchemy.exc import OperationalError

from accounts.models import AuthToken, User
from crowd.core.auth import Principal, hash_token
from crowd.core.db import is_contention, utcnow
from crowd.core.errors import Unauthorized
from crowd.core.i18n import _
from crowd.extensions import db

_LAST_USED_RESOLUTION = timedelta(minutes=5)

# Principal field → a scalar subquery correlated with `users` (None when the user has none).
_PROFILES: dict[str, Callable[[], ScalarSelect]] = {}


def add_profile(field: str, subquery: Callable[[], ScalarSelect]) -> None:
    """Read `field` of the principal (e.g. "member_id") with every token lookup."""
    if field not in Principal.__dataclass_fields__:
        raise ValueError(f"Principal has no field {field!r}")
    _PROFILES[field] = subquery


def profiles_of(user_id: int) -> dict[str, int | None]:
    """The user's profile ids ({"member_id": …, "customer_id": …}), as a principal has them."""
    if not _PROFILES:
        return {}
    columns = [subquery().label(field) for field, subquery in _PROFILES.items()]
    row = db.session.execute(select(*columns).where(User.id == user_id)).one()
    return dict(row._mapping)


def principal_for(secret: str) -> Principal:
    """The principal behind `secret`; 401 for an unknown, expired or revoked token or a
    disabled account."""
    digest = hash_token(secret)
    # Columns, not entities: one cheap row per request, profiles included.
    row = db.session.execute(
        select(
            AuthToken.id,
            AuthToken.kind,
            AuthToken.token_hash,
            AuthToken.expires_at,
            AuthToken.revoked_at,
            AuthToken.last_used_at,
            AuthToken.scopes,
            User.id.label("user_id"),
            User.role,
            User.disabled_at,
            User.locale,
            *(subquery().label(field) for field, subquery in _PROFILES.items()),
        )
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == digest)
    ).first()
    # The lookup is by hash; compare again in constant time so timing says nothing.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise Unauthorized(_("The token is not valid."))
    now = utcnow()
    if row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized(_("The token has expired or was revoked."))
    if row.disabled_at is not None:
        raise Unauthorized(_("This account is disabled."))
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        # A coarse timestamp keeps reads from writing on every request.
        _stamp_last_used(row.id, now)
    profiles = row._mapping
    return Principal(
        user_id=row.user_id,
        role=row.role,
        token_id=row.id,
        via=row.kind,
        scopes=frozenset((row.scopes or "").split()),
        locale=row.locale,
        **{field: profiles[field] for field in _PROFILES},
    )


def _stamp_last_used(token_id: int, now: datetime) -> None:
    """Set the token's last-used time, unless that loses a race: the stamp is coarse and a
    later request sets it, so a read never fails for it. (On SQLite a GET begins without the
    write lock, so that reads run alongside the writers; it cannot take the lock while another
    unit of work holds it, nor write after another one committed since it began reading.)"""
    try:
        with db.session.begin_nested():
            db.session.execute(
                update(AuthToken).where(AuthToken.id == token_id).values(last_used_at=now)
            )
    except OperationalError as error:
        if not is_contention(error):
            raise
    db.session.commit()
