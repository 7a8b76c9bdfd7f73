"""TOTP two-factor for staff (RFC 6238 via pyotp): enrolment with a QR code, verification, and
ten single-use recovery codes shown once and stored hashed.

Admins always need it; community managers when CONSOLE_REQUIRE_2FA_FOR_CMS (default on); anyone
enrolled is asked for it. A code is accepted once (the last accepted time step is kept) and a
wrong code counts towards the same lock as a wrong password (accounts.throttle), keyed per user.
The secret is stored encrypted (Fernet, key derived from SECRET_KEY), so a copy of the
database alone does not yield the codes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, select, update

from accounts import throttle
from accounts.models import User
from console.config import console_settings
from console.errors import WrongCode
from console.models import RecoveryCode, StaffTwoFactor
from crowd.core.db import utcnow
from crowd.core.i18n import _
from crowd.extensions import db

RECOVERY_CODES = 10
# Codes of the previous and the next 30-second step are accepted too (clock drift).
VALID_WINDOW = 1


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"crowd-console-totp:" + current_app.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _secret_of(row: StaffTwoFactor) -> str:
    try:
        return _fernet().decrypt(row.secret_encrypted.encode()).decode()
    except InvalidToken:
        # SECRET_KEY changed: the enrolment cannot be read; the user enrols again.
        return ""


def required(user: User) -> bool:
    """Whether `user` must pass a second factor to use the console."""
    if user.role == "admin" or enrolled(user.id):
        return True
    return user.role == "community_manager" and console_settings().require_2fa_for_cms


def enrolled(user_id: int) -> bool:
    row = db.session.get(StaffTwoFactor, user_id)
    return row is not None and row.confirmed_at is not None and bool(_secret_of(row))


def pending_secret(user_id: int) -> str | None:
    """The secret of an enrolment begun and not confirmed yet, if any."""
    row = db.session.get(StaffTwoFactor, user_id)
    if row is None or row.confirmed_at is not None:
        return None
    return _secret_of(row) or None


def begin_enrolment(user_id: int) -> str:
    """A fresh secret for the user (replacing an unconfirmed or unreadable one)."""
    row = db.session.get(StaffTwoFactor, user_id)
    if row is not None and row.confirmed_at is not None and _secret_of(row):
        raise WrongCode(_("Two-factor is set up already."))
    secret = pyotp.random_base32()
    encrypted = _fernet().encrypt(secret.encode()).decode()
    if row is None:
        db.session.add(StaffTwoFactor(user_id=user_id, secret_encrypted=encrypted))
    else:
        row.secret_encrypted, row.created_at, row.confirmed_at = encrypted, utcnow(), None
        row.last_step = None
    db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=console_settings().two_factor_issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (no image library, nothing loaded from outside)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # Inline in HTML: the XML declaration has no place there.
    return svg[svg.index("<svg") :]


def _throttle_key(user_id: int) -> str:
    return throttle.email_hash(f"console-2fa:{user_id}")


def _accept_totp(row: StaffTwoFactor, secret: str, code: str) -> bool:
    """Whether `code` is valid now and newer than the last accepted one (then it is recorded)."""
    totp = pyotp.TOTP(secret)
    now = utcnow()
    step = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            if row.last_step is not None and candidate <= row.last_step:
                return False  # replayed
            row.last_step = candidate
            return True
    return False


def confirm_enrolment(user_id: int, code: str) -> list[str]:
    """Confirm the begun enrolment with a code from the app; the ten recovery codes (shown
    once: only their hashes are kept)."""
    key = _throttle_key(user_id)
    throttle.refuse_if_locked(key)
    row = db.session.get(StaffTwoFactor, user_id, with_for_update={"key_share": True})
    secret = _secret_of(row) if row is not None and row.confirmed_at is None else ""
    if not secret or not _accept_totp(row, secret, _digits(code)):
        throttle.record_failure(key, None)
        raise WrongCode(_("The code is wrong or expired; enter the current one from the app."))
    throttle.record_success(key)
    row.confirmed_at = utcnow()
    return _new_recovery_codes(user_id)


def verify(user_id: int, code: str) -> str:
    """Check a second factor at sign-in: a TOTP code, or a recovery code (then used up).
    Returns "totp" or "recovery"; raises WrongCode (counted) otherwise."""
    key = _throttle_key(user_id)
    throttle.refuse_if_locked(key)
    row = db.session.get(StaffTwoFactor, user_id, with_for_update={"key_share": True})
    secret = _secret_of(row) if row is not None and row.confirmed_at is not None else ""
    kind = None
    if secret and _accept_totp(row, secret, _digits(code)):
        kind = "totp"
    elif _use_recovery_code(user_id, code):
        kind = "recovery"
    if kind is None:
        throttle.record_failure(key, None)
        raise WrongCode(_("The code is wrong, expired or used already."))
    throttle.record_success(key)
    return kind


def remaining_recovery_codes(user_id: int) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _new_recovery_codes(user_id: int) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    # 10 characters of base32 (50 bits) each, shown as xxxxx-xxxxx.
    codes = []
    for _code in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(7)).decode().lower()[:10]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.add_all(
        RecoveryCode(user_id=user_id, code_hash=_hash_recovery(code)) for code in codes
    )
    db.session.flush()
    return codes


def _use_recovery_code(user_id: int, code: str) -> bool:
    """Spend the recovery code if it is one of the user's unused ones (atomically: once)."""
    if len(_normalise_recovery(code)) != 10:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) == 1
