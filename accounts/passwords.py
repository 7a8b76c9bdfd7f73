"""Password strength: zxcvbn's estimate, with the account's own data as known words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from zxcvbn import zxcvbn

from crowd.core.errors import field_error
from crowd.core.i18n import _

# zxcvbn's score (0-4): 3 is "safely unguessable" (about 10^10 guesses) for an online attack
# against a slow hash; 0-2 are dictionary words, keyboard runs, repeats and the like.
MIN_SCORE = 3
# zxcvbn's time grows steeply with length (seconds at 200 characters); the first 64 decide.
CHECKED_LENGTH = 64


def account_words(
    *, email: str | None = None, display_name: str | None = None, company_name: str | None = None
) -> list[str]:
    """What zxcvbn should treat as known: the email's local part and the names, with parts."""
    words: list[str] = []
    local = (email or "").partition("@")[0]
    for value in (local, display_name, company_name):
        if value:
            words.append(value)
            words.extend(part for part in re.split(r"[\s._+\-@]+", value) if len(part) > 2)
    return words


# Where else a user's own words come from (customers: the company name), by user id.
_KNOWN_NAMES: list[Callable[[int], Iterable[str]]] = []


def add_known_names(source: Callable[[int], Iterable[str]]) -> None:
    if source not in _KNOWN_NAMES:
        _KNOWN_NAMES.append(source)


def known_names(user_id: int) -> list[str]:
    """Names the user's profiles carry, which their password should not be built from."""
    return [name for source in _KNOWN_NAMES for name in source(user_id) if name]


def check_strength(password: str, *, field: str = "password", user_inputs: Iterable[str] = ()):
    """422 naming `field`, with zxcvbn's feedback, when the password is easy to guess."""
    result = zxcvbn(password[:CHECKED_LENGTH], user_inputs=[w.lower() for w in user_inputs])
    if result["score"] >= MIN_SCORE:
        return
    feedback = result["feedback"]
    hints = [feedback.get("warning") or "", *feedback.get("suggestions", [])]
    message = " ".join(h for h in hints if h) or "Add another word or two."
    raise field_error(field, _("too easy to guess. {message}", message=message))
