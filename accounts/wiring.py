"""What accounts plugs into the core and notifications: the token lookup behind every
request, where a user's email address is, which language users chose, and no per-alert email
for CMs on a digest."""

from sqlalchemy import select

from accounts.alert_digests import no_email_for_digest_readers
from accounts.authentication import principal_for
from accounts.models import User
from crowd.core.auth import install_authenticator
from crowd.core.i18n import install_locale_lookup
from crowd.extensions import db
from notifications.delivery import register_queue_filter
from notifications.email import install_address_book


def email_address(user_id: int) -> str | None:
    """The user's email address, for the email channel."""
    user = db.session.get(User, user_id)
    return user.email if user is not None else None


def saved_locales(user_ids) -> dict[int, str | None]:
    """The users' chosen locales, in one query (notifications render per recipient)."""
    ids, found = list(user_ids), {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = db.session.execute(select(User.id, User.locale).where(User.id.in_(chunk)))
        found.update({row.id: row.locale for row in rows})
    return found


def email_addresses(user_ids: list[int]) -> dict[int, str | None]:
    """The users' email addresses, for a batch of the email channel (one query)."""
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {user_id: email for user_id, email in rows}


install_authenticator(principal_for)
install_locale_lookup(saved_locales)
install_address_book(email_address, email_addresses)
register_queue_filter(no_email_for_digest_readers)
