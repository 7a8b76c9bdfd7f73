"""Messages to an account's owner about its access: in the in-app inbox and the email outbox.

The email is the notification's email delivery (notifications.delivery): account kinds
default to email, are transactional and are not held back by quiet hours; it is the only
channel a signed-out owner can be reached on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update

from accounts.models import AccountEvent, User
from crowd.core.db import utcnow
from crowd.extensions import db
from notifications.models import Delivery, OutboundEmail
from notifications.service import notify


def record(user_id: int, kind: str, *, actor_id: int | None = None, reason: str | None = None):
    """Keep an account event (what happened to the account's access, by whom and why)."""
    db.session.add(
        AccountEvent(
            user_id=user_id,
            kind=kind,
            actor_id=actor_id,
            reason=reason[:500] if reason else None,
            created_at=utcnow(),
        )
    )


def tell_owner(
    user: User,
    kind: str,
    title: str,
    body: str,
    *,
    event_key: str,
    email_body: str | None = None,
) -> None:
    """Write the owner's notice once per event (`event_key`): inbox and email.

    `email_body` replaces `body` in the email only (a reset link never goes to the inbox,
    which anyone holding a session can read).
    """
    dedupe_key = f"account.{kind}:{event_key}"
    content = {"body": email_body} if email_body else None
    notify(user.id, f"account.{kind}", title, body, dedupe_key=dedupe_key, channel_content=content)


RESET_EMAIL_KIND = "password_reset_requested"
IN_FLIGHT = ("queued", "sending")
REDACTED_RESET_BODY = (
    "A password reset was requested for your Crowd account. The code this email held has "
    "been used, replaced by a newer one or has expired, so it was removed."
)


def redact_reset_emails(*, user_id: int | None = None, created_before: datetime | None = None):
    """Blank the code in reset emails that can no longer be used, so it does not stay at rest.

    A queued delivery must hold a reset code until it is sent (and the offline outbox keeps
    the rendered email); once the code is used, voided by a newer one or the account's closure
    (`user_id`), or expired (`created_before`), both keep only a note."""
    deliveries = update(Delivery).where(
        Delivery.kind == f"account.{RESET_EMAIL_KIND}", Delivery.content.is_not(None)
    )
    if user_id is not None:
        deliveries = deliveries.where(Delivery.user_id == user_id)
    if created_before is not None:
        # A delivery done with (sent, failed, suppressed) never needs its code again either.
        deliveries = deliveries.where(
            or_(Delivery.created_at < created_before, Delivery.status.not_in(IN_FLIGHT))
        )
    db.session.execute(
        deliveries.values(content={"body": REDACTED_RESET_BODY}).execution_options(
            synchronize_session=False
        )
    )
    query = update(OutboundEmail).where(
        OutboundEmail.dedupe_key.like(f"account.{RESET_EMAIL_KIND}:%"),
        OutboundEmail.body != REDACTED_RESET_BODY,
    )
    if user_id is not None:
        query = query.where(OutboundEmail.user_id == user_id)
    if created_before is not None:
        query = query.where(OutboundEmail.created_at < created_before)
    result = db.session.execute(
        query.values(body=REDACTED_RESET_BODY, html=REDACTED_RESET_BODY).execution_options(
            synchronize_session=False
        )
    )
    return result.rowcount or 0
