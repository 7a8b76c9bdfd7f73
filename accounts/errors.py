"""Named errors of accounts: sign-in refusals, locks, deactivated accounts, taken emails."""

from __future__ import annotations

from crowd.core.errors import Conflict, Forbidden, TooManyRequests, Unauthorized, Unprocessable
from crowd.core.i18n import _l


class CountedFailure(Exception):
    """A wrong password that counts towards the account's lock: the count is committed even
    though the request is refused (accounts.throttle.keeping_failures)."""


class SignInFailed(CountedFailure, Unauthorized):
    """Wrong email or password; the same answer whether or not the email has an account."""


class WrongCurrentPassword(CountedFailure, Unprocessable):
    """A password change whose current password is wrong."""


class SignInLocked(TooManyRequests):
    """Too many wrong passwords in a row for this email: locked for Retry-After seconds."""

    title, type_slug = _l("Sign-in locked"), "sign-in-locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many wrong passwords for this account; sign-in is paused. "
            "Retry after the Retry-After seconds, or reset the password."
        )
        self.headers = {"Retry-After": str(retry_after)}


class AccountDisabled(Forbidden):
    """The account was deactivated by staff: no sign-in, no token works."""

    title, type_slug = _l("Account deactivated"), "account-deactivated"


class EmailTaken(Conflict):
    """Staff creation only: sign-up never tells (accounts.lifecycle.sign_up)."""

    title, type_slug = _l("Email taken"), "email-taken"


class AccountAlreadyDeactivated(Conflict):
    """Staff deactivate an account that is deactivated already."""

    title, type_slug = _l("Account already deactivated"), "account-already-deactivated"


class AccountActive(Conflict):
    """Staff reactivate an account that is active."""

    title, type_slug = _l("Account active"), "account-active"
