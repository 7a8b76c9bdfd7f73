"""Account lifecycle: sign-up that tells nobody whether an email is taken, password change and
reset, deactivation and reactivation. Whatever closes an account's access revokes every token
and API key at once; each step is kept as an account event and the owner is told."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from accounts import notices, throttle
from accounts.errors import (
    AccountActive,
    AccountAlreadyDeactivated,
    EmailTaken,
    WrongCurrentPassword,
)
from accounts.models import PasswordResetToken, User
from accounts.passwords import account_words, check_strength, known_names
from accounts.service import (
    get_user,
    hash_password,
    normalise_email,
    password_matches,
    revoke_all_credentials,
)
from crowd.core.auth import STAFF, Principal, hash_token
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from notifications.push.devices import retire_all as retire_devices

RESET_TOKEN_PREFIX = "crp_"
# Checks a reactivation must pass, added by the packages whose records can keep an account
# closed (members: a suspended or offboarded member); each raises to refuse.
_REOPEN_GUARDS: list[Callable[[int], None]] = []

SIGN_UP_RECEIVED = (
    "If this address can be used, the account now exists: sign in with it. If the address "
    "already has an account, nothing was changed and its owner was told."
)
RESET_REQUESTED = (
    "If an active account has this address, a single-use reset link is on its way there."
)


def _settings():
    return current_app.config["CROWD_SETTINGS"]


def _words(user: User) -> list[str]:
    words = account_words(email=user.email, display_name=user.display_name)
    for name in known_names(user.id):
        words += account_words(company_name=name)
    return words


# --- sign-up ----------------------------------------------------------------------------------


def sign_up(register: Callable[..., User], *, email: str, password: str, **fields) -> dict:
    """Register through `register` (customer or member), answering the same when the email
    has an account already: then nothing is created, the password is hashed anyway (the same
    time spent) and the owner is told instead."""
    email = normalise_email(email)
    try:
        with db.session.begin_nested():
            register(email=email, password=password, **fields)
    except EmailTaken:
        hash_password(password)
        _tell_existing_owner(email)
    except IntegrityError:
        # A concurrent sign-up with this email committed first; anything else is not ours.
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            raise
        _tell_existing_owner(email)
    return {"email": email, "detail": SIGN_UP_RECEIVED}


def _tell_existing_owner(email: str) -> None:
    user = db.session.scalar(select(User).where(User.email == email))
    notices.record(user.id, "sign_up_with_existing_email")
    # At most one message an hour, however often someone tries.
    notices.tell_owner(
        user,
        "sign_up_with_existing_email",
        _l("Someone tried to sign up with your email address"),
        _l(
            "A new Crowd account was requested with your email address, "
            "which already has one. Nothing was changed. If it was you, "
            "sign in, or reset your password if you forgot it; if not, "
            "you can ignore this message."
        ),
        event_key=f"{user.id}:{utcnow():%Y%m%d%H}",
    )


# --- passwords ----------------------------------------------------------------------------------


def _set_password(user: User, password: str) -> None:
    """Store the new password and void every reset link still open."""
    user.password_hash = hash_password(password)
    _void_reset_tokens(user.id)


def _void_reset_tokens(user_id: int) -> None:
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    notices.redact_reset_emails(user_id=user_id)


def change_password(*, actor: Principal, current_password: str, new_password: str) -> int:
    """The signed-in user replaces their password, proving the current one.

    Every other session token and every API key of the user is revoked (keys too: a password
    is changed when something leaked, and a key made by a stolen session would outlive it);
    the session making the change stays. A wrong current password counts towards the lock
    like a wrong sign-in. Returns how many credentials were revoked.
    """
    if actor.via != "session":
        raise Forbidden(_("Change the password with a session token, not an API key."))
    user = get_user(actor.user_id)
    key = throttle.email_hash(user.email)
    throttle.refuse_if_locked(key)
    if not password_matches(user, current_password):
        throttle.record_failure(key, user)
        raise WrongCurrentPassword(
            _("current_password: wrong password"),
            errors={"json": {"current_password": ["wrong password"]}},
        )
    if new_password == current_password:
        raise field_error("new_password", _("must differ from the current password"))
    check_strength(new_password, field="new_password", user_inputs=_words(user))
    _set_password(user, new_password)
    revoked = revoke_all_credentials(user.id, except_token_id=actor.token_id)
    notices.record(user.id, "password_changed", actor_id=user.id)
    _tell_password_changed(user)
    return revoked


def _tell_password_changed(user: User) -> None:
    notices.tell_owner(
        user,
        "password_changed",
        _l("Your Crowd password was changed"),
        _l(
            "The password of your account was changed, and every other "
            "session and API key was signed out. If it was not you, reset"
            " your password at once and contact support."
        ),
        event_key=f"{user.id}:{utcnow().isoformat()}",
    )


def request_password_reset(*, email: str) -> dict:
    """Send a single-use reset link to the address if an active account has it.

    Only the link's SHA-256 is stored; the link itself goes to the email outbox. A new link
    voids the older ones. The answer is the same whether or not the address has an account.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is not None and user.disabled_at is None:
        _issue_reset_link(user)
    return {"detail": RESET_REQUESTED}


def _issue_reset_link(user: User) -> None:
    _void_reset_tokens(user.id)
    now, minutes = utcnow(), _settings().password_reset_ttl_minutes
    secret = RESET_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PasswordResetToken(
        user_id=user.id,
        token_hash=hash_token(secret),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(token)
    db.session.flush()
    notices.record(user.id, "password_reset_requested")
    notices.tell_owner(
        user,
        notices.RESET_EMAIL_KIND,
        _l("Reset your Crowd password"),
        _l(
            "A password reset was requested for your account; the link "
            "went to your email address. If it was not you, ignore it: "
            "your password stays as it is."
        ),
        # The inbox never gets the link: anyone holding a session of the account reads it.
        email_body=(
            _l(
                "A password reset was requested for your Crowd account. Open "
                "the Crowd app's 'Reset password' page and enter this code "
                "within {minutes} minutes; it works once:  {secret}  If it "
                "was not you, ignore this email: your password stays as it "
                "is.",
                minutes=minutes,
                secret=secret,
            )
        ),
        event_key=str(token.id),
    )


def redeem_password_reset(*, token: str, password: str) -> None:
    """Set a new password with a reset link: once, before it expires. Every session token and
    API key of the account is revoked, and its sign-in lock lifted."""
    now = utcnow()
    # One conditional UPDATE: of two concurrent redemptions only one finds the link unused.
    user_id = db.session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == hash_token(token),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordResetToken.user_id)
        .execution_options(synchronize_session=False)
    ).scalar()
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.disabled_at is not None:
        raise field_error("token", _("invalid, expired or already used"))
    # A weak password refuses the whole request: the link stays usable (rolled back).
    check_strength(password, user_inputs=_words(user))
    _set_password(user, password)
    revoke_all_credentials(user.id)
    throttle.record_success(throttle.email_hash(user.email))
    notices.record(user.id, "password_reset")
    _tell_password_changed(user)


def purge_reset_tokens() -> int:
    """Delete reset links that expired or were used more than a day ago, and blank the code
    in the emails of links that expired since."""
    now = utcnow()
    notices.redact_reset_emails(
        created_before=now - timedelta(minutes=_settings().password_reset_ttl_minutes)
    )
    cutoff = now - timedelta(days=1)
    result = db.session.execute(
        delete(PasswordResetToken).where(
            or_(PasswordResetToken.expires_at < cutoff, PasswordResetToken.used_at < cutoff)
        )
    )
    return result.rowcount or 0


# --- deactivation -------------------------------------------------------------------------------


def close_access(user_id: int, *, actor_id: int | None, reason: str) -> int:
    """Deactivate the account with immediate effect: sign-in refused, every session token and
    API key revoked, open reset links voided. The one function behind staff deactivation,
    a member's offboarding and a suspension. Returns how many credentials were revoked."""
    user = db.session.get(User, user_id, with_for_update=ROW_LOCK)
    if user.disabled_at is None:
        user.disabled_at, user.disabled_reason = utcnow(), reason[:500]
    revoked = revoke_all_credentials(user.id)
    _void_reset_tokens(user.id)
    # Signed out everywhere: no more pushes to the phones either.
    retire_devices(user.id, "signed_out")
    notices.record(user.id, "deactivated", actor_id=actor_id, reason=reason)
    notices.tell_owner(
        user,
        "deactivated",
        _l("Your Crowd account was deactivated"),
        _l(
            "Your account was deactivated and you were signed out "
            "everywhere. Contact support if you think this is a mistake."
        ),
        event_key=f"{user.id}:{utcnow().isoformat()}",
    )
    return revoked


def reopen_access(user_id: int, *, actor_id: int | None, reason: str | None = None) -> None:
    """Let a deactivated account sign in again; its old tokens and keys stay revoked."""
    user = db.session.get(User, user_id, with_for_update=ROW_LOCK)
    if user.disabled_at is None:
        return
    user.disabled_at, user.disabled_reason = None, None
    # A token issued by a sign-in that raced the deactivation would otherwise come back.
    revoke_all_credentials(user.id)
    notices.record(user.id, "reactivated", actor_id=actor_id, reason=reason)
    notices.tell_owner(
        user,
        "reactivated",
        _l("Your Crowd account is active again"),
        _l("Your account was reactivated: you can sign in again."),
        event_key=f"{user.id}:{utcnow().isoformat()}",
    )


def _target(actor: Principal, user_id: int) -> User:
    """The account staff act on: admins on anyone, community managers on customers and
    members; nobody on themselves."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins deactivate accounts."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.id == actor.user_id:
        raise Forbidden(_("You cannot deactivate or reactivate your own account."))
    if user.role in STAFF and actor.role != "admin":
        raise Forbidden(_("Only admins deactivate or reactivate staff accounts."))
    return user


def access_view(user: User, *, credentials_revoked: int = 0) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "active": user.disabled_at is None,
        "disabled_at": user.disabled_at,
        "disabled_reason": user.disabled_reason,
        "credentials_revoked": credentials_revoked,
    }


def deactivate_user(*, actor: Principal, user_id: int, reason: str) -> dict:
    """Staff deactivate an account (409 if it is already)."""
    user = _target(actor, user_id)
    if user.disabled_at is not None:
        raise AccountAlreadyDeactivated(
            _("This account is deactivated already."), state="deactivated"
        )
    revoked = close_access(user.id, actor_id=actor.user_id, reason=reason)
    return access_view(user, credentials_revoked=revoked)


def add_reopen_guard(guard: Callable[[int], None]) -> None:
    """Run `guard(user_id)` before staff reactivate an account; it raises to refuse."""
    if guard not in _REOPEN_GUARDS:
        _REOPEN_GUARDS.append(guard)


def reactivate_user(*, actor: Principal, user_id: int) -> dict:
    """Staff reactivate an account (409 if it is active, or its member profile is suspended or
    offboarded: reinstatement reopens a suspended member's account; offboarding is final)."""
    user = _target(actor, user_id)
    if user.disabled_at is None:
        raise AccountActive(_("This account is active."), state="active")
    for guard in _REOPEN_GUARDS:
        guard(user.id)
    reopen_access(user.id, actor_id=actor.user_id)
    return access_view(user)
