"""String patterns that validate in Python and document as ECMA 262 regular expressions."""

from __future__ import annotations

import re

from marshmallow import ValidationError, validate


class Pattern(validate.Regexp):
    """The whole value must match `body`; the docs show `^(?:body)$`, which clients can use.

    Python's `\\A…\\Z` is not ECMA 262 (OpenAPI's dialect) and Python's `$` also matches before
    a trailing newline, so validation uses fullmatch and only the documented form is anchored.
    """

    def __init__(self, body: str, *, error: str | None = None):
        super().__init__(f"^(?:{body})$", error=error)
        self._whole = re.compile(body)

    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or self._whole.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value
