"""Who is calling: a bearer secret resolved to a `Principal`, from a short-lived cache or with
one query.

The core (crowd.core.auth) calls `principal_for` through the authenticator this package
installs (accounts.wiring). A principal carries the caller's profiles (member_id,
customer_id): the packages that own them add a correlated subquery each (`add_profile`, from
their own wiring), so this package names none of them and the lookup stays one round trip.

The cache (a profile showed the token lookup in every request, polls included): a principal is
kept CACHE_SECONDS under its token's hash (crowd.core.stamps: Redis, or process memory on the
embedded default) together with the change stamp of its user that was read *before* the
database, and it is used only while that stamp is still the user's. Any change to a user or to
one of their tokens — sign-out, a revoked token or key, a password change (every token
revoked), deactivation, a new role or language — gives the user a new stamp when it is flushed
(refused, and the change with it, when the store cannot be reached) and again after its
commit, so the next request after the answer to that change goes to the database. A token's
first use only learns its user (the cache cannot know whose stamp to read before); the next
use reads the stamp first, then the database, and caches. Bulk UPDATEs and DELETEs of users or
tokens that do not stamp their users themselves renew every user's stamp.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import chain

from flask import has_app_context
from sqlalchemy import ScalarSelect, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session

from accounts.models import AuthToken, User
from crowd.core import stamps
from crowd.core.auth import Principal, hash_token, principal_if_any
from crowd.core.db import is_contention, utcnow
from crowd.core.errors import ServiceUnavailable, Unauthorized
from crowd.core.i18n import _
from crowd.extensions import db

_LAST_USED_RESOLUTION = timedelta(minutes=5)
# How long a principal may be answered from the cache (each use checks its user's stamp).
CACHE_SECONDS = 60
ALL_USERS = "auth:all"
# Execution option of a bulk statement on users or tokens that stamps its users itself (or
# changes nothing a principal shows, as the last-used stamp).
log = logging.getLogger(__name__)

STAMPED = "crowd_auth_stamped"

# Principal field → a scalar subquery correlated with `users` (None when the user has none).
_PROFILES: dict[str, Callable[[], ScalarSelect]] = {}


# Stamps of the caller's own data a package reads on most of their requests (jobs: the member's
# offer list): read with the token's note in the same round trip (crowd.core.stamps).
_NOTE_STAMPS: list[Callable[[Principal], str | None]] = []


def add_note_stamp(stamp_of: Callable[[Principal], str | None]) -> None:
    """Read the stamp `stamp_of(principal)` names (None: none) together with the token."""
    if stamp_of not in _NOTE_STAMPS:
        _NOTE_STAMPS.append(stamp_of)


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


def answer_profiles(user_id: int) -> dict[str, int | None]:
    """profiles_of for an answer about a user: the caller's own from their principal (read
    with the token) without a query — `GET /me` dumped both ids by two queries before."""
    principal = principal_if_any()
    if principal is not None and principal.user_id == user_id:
        return {field: getattr(principal, field) for field in _PROFILES}
    return profiles_of(user_id)


def user_stamp(user_id: int) -> str:
    return f"auth:user:{user_id}"


def principal_for(secret: str) -> Principal:
    """The principal behind `secret`; 401 for an unknown, expired or revoked token or a
    disabled account. From the cache while the user's stamp is unchanged (module docstring)."""
    digest = hash_token(secret)
    note_key = f"auth:token:{digest}"
    # The note and its user's stamps in one read, before the database is asked.
    found = stamps.recall(note_key)
    if found is None:
        principal, _expires = _lookup(digest)
        # Whose token it is never changes: the next use reads that user's stamps with it.
        _remember(note_key, {"user": principal.user_id}, principal)
        return principal
    note, current = found
    known = json.loads(note)
    # The user's own stamps (the ones after them were only read along: _NOTE_STAMPS).
    current = current[:2]
    if known.get("stamps") == current and known["expires"] > utcnow().timestamp():
        return _principal(known["principal"])
    principal, expires = _lookup(digest)
    if principal.user_id == known["user"]:
        cached = {
            "user": principal.user_id,
            "stamps": current,
            "expires": expires.timestamp(),
            "principal": dataclasses.asdict(principal) | {"scopes": sorted(principal.scopes)},
        }
        _remember(note_key, cached, principal)
    return principal


def _remember(note_key: str, note: dict, principal: Principal) -> None:
    extra = [key for stamp_of in _NOTE_STAMPS if (key := stamp_of(principal))]
    keys = (user_stamp(note["user"]), ALL_USERS, *extra[: stamps.MAX_NOTE_STAMPS - 2])
    stamps.remember(note_key, json.dumps(note), CACHE_SECONDS, stamps=keys)


def _principal(fields: dict) -> Principal:
    return Principal(**fields | {"scopes": frozenset(fields["scopes"])})


def _lookup(digest: str) -> tuple[Principal, datetime]:
    """The principal from the database, with its token's expiry."""
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
    principal = Principal(
        user_id=row.user_id,
        role=row.role,
        token_id=row.id,
        via=row.kind,
        scopes=frozenset((row.scopes or "").split()),
        locale=row.locale,
        **{field: profiles[field] for field in _PROFILES},
    )
    return principal, row.expires_at


def restamp_users(session: Session, user_ids) -> None:
    """New stamps for these users now and after the commit: their cached principals go.
    Raises when the store cannot be reached, so the change does not commit unseen."""
    keys = [user_stamp(user_id) for user_id in user_ids if user_id is not None]
    if not keys or not has_app_context():
        return
    _renew_or_refuse(keys)
    stamps.touch(session, *keys)


def _renew_or_refuse(keys: list[str]) -> None:
    """Renew the stamps now; when the store cannot be reached, refuse the change with 503 (it
    rolls back) rather than let a cached principal outlive it unseen."""
    try:
        stamps.renew_now(*keys)
    except Exception as error:
        log.warning("credential change refused: change stamps unreachable", exc_info=True)
        raise ServiceUnavailable(
            _("Sign-in data cannot be changed right now; please try again in a moment."),
        ) from error


@event.listens_for(Session, "after_flush")
def _users_or_tokens_changed(session: Session, _context) -> None:
    users = set()
    for row in chain(session.dirty, session.deleted):
        if isinstance(row, User):
            users.add(row.id)
        elif isinstance(row, AuthToken):
            users.add(row.user_id)
    if users:
        restamp_users(session, users)


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get(STAMPED):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in (User, AuthToken) and has_app_context():
        _renew_or_refuse([ALL_USERS])
        stamps.touch(state.session, ALL_USERS)


def _stamp_last_used(token_id: int, now: datetime) -> None:
    """Set the token's last-used time, unless that loses a race: the stamp is coarse and a
    later request sets it, so a read never fails for it. (On SQLite a GET begins without the
    write lock, so that reads run alongside the writers; it cannot take the lock while another
    unit of work holds it, nor write after another one committed since it began reading.)"""
    try:
        with db.session.begin_nested():
            db.session.execute(
                update(AuthToken)
                .where(AuthToken.id == token_id)
                .values(last_used_at=now)
                .execution_options(**{STAMPED: True})
            )
    except OperationalError as error:
        if not is_contention(error):
            raise
    db.session.commit()
