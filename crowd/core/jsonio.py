"""The one JSON loader of requests: standard JSON whose values the rest of the app can store.

Python's json module accepts what no database or password hash can take, and what other JSON
parsers refuse: lone UTF-16 surrogates in strings ("\\ud800": valid JSON escapes, but no
UTF-8 text), integers of any length (past 4,300 digits it raises a ValueError, past 64 bits the
database does), numbers that overflow to infinity (1e400) and the non-standard literals NaN,
Infinity and -Infinity; PostgreSQL's text takes no NUL character ("\\u0000") either. `loads`
refuses each of them as a 422 naming where it sits in the body
(`errors: {"json": {"parts": {"0": {"amount_minor": [...]}}}}`), so a request body is refused
in one place before any schema, view or database sees it. Request bodies reach it through
flask-smorest's argument parser (`JSONBodyParser`) and Flask's own `request.get_json()`
(`StrictJSONProvider`); pagination cursors go through it too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from crowd.core.errors import Unprocessable
from crowd.core.i18n import _

# The range of the BIGINT columns every integer may end up in.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

OUT_OF_RANGE_INTEGER = "Number out of range: integers must fit in 64 bits."
OUT_OF_RANGE_NUMBER = "Number out of range."
NOT_A_NUMBER = "Not valid JSON: NaN and Infinity are not numbers."
LONE_SURROGATE = "Not valid text: contains a lone UTF-16 surrogate (\\ud800-\\udfff)."
NUL_CHARACTER = "Not valid text: contains a NUL character (\\u0000)."

# A refused value can only sit in a body with one of these; most bodies have none, and then
# the parsed value is returned without a second look.
_SUSPECT = re.compile(r"\d{19}|[eE][+-]?\d{3}|NaN|Infinity|\\u[dD][89a-fA-F]|\\u0000")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    """Why a string cannot be stored: a lone surrogate is no UTF-8, and PostgreSQL's text
    takes no NUL character (SQLite would, so refusing it keeps both databases alike)."""
    if _SURROGATE.search(text):
        return LONE_SURROGATE
    if "\x00" in text:
        return NUL_CHARACTER
    return None


class InvalidJSONValue(Unprocessable):
    """A request's JSON has values no part of the app can take: a 422 naming each."""


class _Refused:
    """Stands in for a refused number while parsing, so the walk afterwards can name it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


_BIG_INTEGER = _Refused(OUT_OF_RANGE_INTEGER)
_BIG_NUMBER = _Refused(OUT_OF_RANGE_NUMBER)
_NOT_A_NUMBER = _Refused(NOT_A_NUMBER)


def _parse_int(text: str) -> int | _Refused:
    # 19 digits and a sign cover the 64-bit range; a longer text is never converted (past
    # 4,300 digits int() raises, and converting is quadratic in the length).
    if len(text) > 20:
        return _BIG_INTEGER
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else _BIG_INTEGER


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _BIG_NUMBER


def _parse_constant(text: str) -> _Refused:
    return _NOT_A_NUMBER


_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)


def loads(data: str | bytes) -> Any:
    """Parse standard JSON; refused values raise InvalidJSONValue naming their place.

    Malformed JSON (and bytes that are not UTF-8) raise json.JSONDecodeError as json.loads does.
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            # A non-empty document: webargs takes an empty one for "no body".
            doc = data.decode("utf-8", "replace")
            raise json.JSONDecodeError(f"Not UTF-8: {error.reason}", doc, error.start) from None
    else:
        text = data
    value = _DECODER.decode(text)
    if _SUSPECT.search(text):
        errors = _refusals(value)
        if errors:
            # A refused value that is the whole body belongs to no field: marshmallow's _schema.
            where = {"_schema": errors} if isinstance(errors, list) else errors
            raise InvalidJSONValue(
                _("The request has invalid fields; see errors."), errors={"json": where}
            )
    return value


def _refusals(value: Any) -> dict | list | None:
    """Where `value` holds refused values: {field: {index: … [message]}}, as marshmallow says."""
    if isinstance(value, dict):
        errors = {}
        for key, item in value.items():
            if problem := _text_problem(key):
                errors[_printable(key)] = [problem]
            elif found := _refusals(item):
                errors[key] = found
        return errors
    if isinstance(value, list):
        return {index: found for index, item in enumerate(value) if (found := _refusals(item))}
    if isinstance(value, _Refused):
        return [value.message]
    if isinstance(value, str) and (problem := _text_problem(value)):
        return [problem]
    return None


def _printable(key: str) -> str:
    # The key itself cannot go back into a response: its surrogate is no UTF-8 either.
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


class JSONBodyParser(FlaskParser):
    """flask-smorest's argument parser, reading JSON bodies with `loads`."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return loads(req.get_data(cache=True))


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, reading with `loads` (request.get_json and flask.json.loads)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
