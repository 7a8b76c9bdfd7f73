"""Named errors of the console: refused sign-ins, wrong second factors, CSRF failures."""

from __future__ import annotations

from accounts.errors import CountedFailure
from crowd.core.errors import BadRequest, Forbidden, Unauthorized
from crowd.core.i18n import _l


class StaffOnly(Forbidden):
    """A customer's or member's right password: the console is for staff only."""

    title, type_slug = _l("Console for staff only"), "console-staff-only"


class WrongCode(CountedFailure, Unauthorized):
    """A wrong or reused TOTP code or recovery code; counts towards the lock like a password."""

    title, type_slug = _l("Wrong code"), "console-wrong-code"


class CsrfFailed(BadRequest):
    """A console form posted without its CSRF token, or with a wrong or expired one."""

    title, type_slug = _l("Form expired or forged"), "console-csrf-failed"
