"""Messages to an account's owner about its access: in the in-app inbox and the email outbox.

The email goes to the offline outbox (`outbound_emails`, which a mail relay sends); until
email delivery lands it is the only channel a signed-out owner can be reached on.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from crowd.accounts.models import AccountEvent, User
from crowd.core.db import is_postgres, utcnow
from crowd.extensions import db
from crowd.notifications.service import notify
from mentoring.models import OutboundEmail


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
    in_app: bool = True,
) -> None:
    """Write the owner's notice once per event (`event_key`): inbox and email outbox.

    `email_body` replaces `body` in the email only (a reset link never goes to the inbox,
    which anyone holding a session can read).
    """
    dedupe_key = f"account.{kind}:{event_key}"
    if in_app:
        notify(user.id, f"account.{kind}", title, body, dedupe_key=dedupe_key)
    dialect = postgresql if is_postgres() else sqlite
    statement = dialect.insert(OutboundEmail).values(
        to_address=user.email,
        user_id=user.id,
        subject=title,
        body=email_body or body,
        dedupe_key=dedupe_key,
        status="pending",
        created_at=utcnow(),
    )
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["dedupe_key"]))
