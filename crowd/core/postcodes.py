"""Postal codes: the form each country we serve uses, and a loose one for other countries."""

from __future__ import annotations

import re

# Germany five digits, Austria and Switzerland four.
POSTCODE_FORMATS = {
    "DE": (re.compile(r"\d{5}"), "must be 5 digits for DE"),
    "AT": (re.compile(r"\d{4}"), "must be 4 digits for AT"),
    "CH": (re.compile(r"\d{4}"), "must be 4 digits for CH"),
}
# Elsewhere in Europe (a business customer's billing address): letters, digits, a space or a
# dash — 1000-001 (PT), 1234 AB (NL), D02 X285 (IE), VLT 1117 (MT).
OTHER_FORMAT = (re.compile(r"[A-Z0-9][A-Z0-9 \-]{1,9}"), "not a postal code")


def postcode_problem(country: str, postcode: str) -> str | None:
    """Why `postcode` is not a postcode of `country`, or None when it is one."""
    pattern, message = POSTCODE_FORMATS.get(country, OTHER_FORMAT)
    return None if pattern.fullmatch(postcode) else message
