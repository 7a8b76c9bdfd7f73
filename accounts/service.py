"""Registration, password checks and credential issuing; services never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update

from accounts import throttle
from accounts.authentication import STAMPED, restamp_users
from accounts.errors import AccountDisabled, EmailTaken, SignInFailed
from accounts.models import AuthToken, User
from accounts.passwords import account_words, check_strength
from crowd.core.auth import Principal, new_token, require_session
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _
from crowd.extensions import db

_HASHERS = {
    "default": PasswordHasher(),
    # Tests only (CROWD_FAST_HASHING): same algorithm, minimal cost.
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
_DUMMY_HASHES: dict[str, str] = {}


declare("account.signed_in")


def _hasher() -> PasswordHasher:
    return _HASHERS["fast" if current_app.config.get("CROWD_FAST_HASHING") else "default"]


def _dummy_hash() -> str:
    """Verifying against this keeps timing equal whether or not the email exists."""
    hasher = _hasher()
    key = "fast" if hasher is _HASHERS["fast"] else "default"
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash("crowd-dummy-password")
    return _DUMMY_HASHES[key]


@dataclass
class IssuedCredential:
    token: AuthToken
    secret: str
    user: User


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _settings():
    return current_app.config["CROWD_SETTINGS"]


def new_user(
    *,
    email: str,
    password: str,
    role: str,
    display_name: str,
    created_by_id=None,
    company_name: str | None = None,
    locale: str | None = None,
) -> User:
    email = normalise_email(email)
    # Strength first: a weak password gets its 422 whether or not the email is taken.
    check_strength(
        password,
        user_inputs=account_words(
            email=email, display_name=display_name, company_name=company_name
        ),
    )
    if db.session.scalar(select(func.count()).where(User.email == email)):
        raise EmailTaken(
            _("An account with this email exists."), errors={"json": {"email": ["taken"]}}
        )
    user = User(
        email=email,
        password_hash=_hasher().hash(password),
        role=role,
        display_name=display_name.strip(),
        created_by_id=created_by_id,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def create_staff(
    *, actor_id: int | None, email: str, password: str, display_name: str, role: str
) -> User:
    """An admin (or the first-admin CLI, actor None) creates a community manager or admin."""
    return new_user(
        email=email, password=password, role=role, display_name=display_name, created_by_id=actor_id
    )


def check_password(email: str, password: str) -> User:
    """The user with this email and password, counting wrong passwords per address (the API's
    sign-in and the console's use this one check, so both share the lockout).

    A locked address gets 429 before any check (accounts.throttle); a deactivated
    account, 403 once the password is right.
    """
    email = normalise_email(email)
    key = throttle.email_hash(email)
    had_failures = throttle.refuse_if_locked(key)
    user = db.session.scalar(select(User).where(User.email == email))
    try:
        _hasher().verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        throttle.record_failure(key, user)
        raise SignInFailed(_("Email or password is wrong.")) from None
    if user is None:  # the dummy hash's own password
        throttle.record_failure(key, None)
        raise SignInFailed(_("Email or password is wrong."))
    if had_failures:
        throttle.record_success(key)
    if user.disabled_at is not None:
        raise AccountDisabled(_("This account is deactivated; contact support."))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return user


def _issue(
    user: User, *, kind: str, name: str, ttl: timedelta, scopes: list[str] | None = None
) -> IssuedCredential:
    secret, digest = new_token(kind)
    token = AuthToken(
        user_id=user.id,
        kind=kind,
        name=name,
        token_hash=digest,
        hint=secret[:10],
        expires_at=utcnow() + ttl,
        scopes=" ".join(sorted(set(scopes))) if scopes is not None else None,
    )
    db.session.add(token)
    db.session.flush()
    return IssuedCredential(token=token, secret=secret, user=user)


def sign_in(
    *, email: str, password: str, name: str = "session", device_id: str | None = None
) -> IssuedCredential:
    """Email and password in, a bearer token out; a member's device id is recorded (hashed)."""
    user = check_password(email, password)
    if device_id:
        # Recruitment keeps members' devices (fraud signals): it subscribes.
        emit(Event("account.signed_in", "user", user.id, user.id, payload={"device_id": device_id}))
    return _issue(
        user, kind="session", name=name, ttl=timedelta(hours=_settings().session_token_ttl_hours)
    )


def create_api_key(
    *, actor: Principal, name: str, scopes: list[str], expires_in_days: int | None = None
) -> IssuedCredential:
    """A long-lived key for a customer's systems, limited to `scopes`; only a session may."""
    require_session(actor)
    user = db.session.get(User, actor.user_id)
    days = expires_in_days or _settings().api_key_ttl_days
    return _issue(user, kind="api_key", name=name, ttl=timedelta(days=days), scopes=scopes)


def list_credentials(*, actor: Principal, include_inactive: bool = False) -> list[AuthToken]:
    """The caller's tokens and keys (a session's caller only: keys never see credentials)."""
    require_session(actor)
    query = select(AuthToken).where(AuthToken.user_id == actor.user_id)
    if not include_inactive:
        query = query.where(AuthToken.revoked_at.is_(None), AuthToken.expires_at > utcnow())
    return list(db.session.scalars(query.order_by(AuthToken.id)))


def revoke_credential(*, actor: Principal, token_id: int) -> AuthToken:
    """Revoke one of the caller's own tokens or keys; others' are not found."""
    require_session(actor)
    token = db.session.get(AuthToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def user_id_for_email(email: str) -> int | None:
    """The id of the account with this email address (any case, spaces around), if any."""
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email)))


def set_locale(user_id: int, locale: str | None) -> User:
    """Save the user's language (None: not chosen)."""
    user = get_user(user_id)
    user.locale = locale
    return user


def rename_user(user_id: int, display_name: str) -> None:
    """Keep the account's name in step with the customer or member profile's."""
    get_user(user_id).display_name = display_name


# --- account lifecycle (accounts.lifecycle) --------------------------------------------


def hash_password(password: str) -> str:
    """The stored form of a password (argon2id; minimal cost under CROWD_FAST_HASHING)."""
    return _hasher().hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def revoke_all_credentials(user_id: int, *, except_token_id: int | None = None) -> int:
    """Revoke every session token and API key of the user (but `except_token_id`) at once;
    how many were still unrevoked."""
    query = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if except_token_id is not None:
        query = query.where(AuthToken.id != except_token_id)
    # Their cached principals go now and with the commit (accounts.authentication).
    restamp_users(db.session(), [user_id])
    result = db.session.execute(
        query.values(revoked_at=utcnow()).execution_options(
            synchronize_session="fetch", **{STAMPED: True}
        )
    )
    return result.rowcount or 0
