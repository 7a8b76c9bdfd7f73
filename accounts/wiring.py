"""What accounts plugs into the core and notifications: the token lookup behind every
request, and where a user's email address is."""

from accounts.authentication import principal_for
from accounts.models import User
from crowd.core.auth import install_authenticator
from crowd.extensions import db
from notifications.email import install_address_book


def email_address(user_id: int) -> str | None:
    """The user's email address, for the email channel."""
    user = db.session.get(User, user_id)
    return user.email if user is not None else None


install_authenticator(principal_for)
install_address_book(email_address)
