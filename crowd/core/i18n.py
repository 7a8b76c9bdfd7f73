"""German and English: every text a person reads comes from the message catalogues
(`crowd/translations/<locale>/LC_MESSAGES/messages.po`, compiled to `.mo`), via Flask-Babel.

Source strings are English msgids with named `{placeholders}` (str.format, so an f-string
becomes a msgid by dropping its `f`): `_("Job {id} is {state}.", id=job.id, state=job.state)`
translates now, in the request's locale; `_l(...)` is lazy — it translates when it is turned
into a string, in whatever locale is in force then. Notifications are lazy so that
`notifications.service` renders them in each recipient's locale (`render`), not the caller's.

The request's locale: the signed-in user's choice (`users.locale`, read with the token),
else the best match of `Accept-Language` among LOCALES, else DEFAULT_LOCALE (German). Outside
a request (tasks, the CLI) it is English, the language of the logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from babel import Locale
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, refresh
from flask_babel import gettext as _babel_gettext
from flask_babel.speaklater import LazyString
from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LOCALES = ("de", "en")
SOURCE_LOCALE = "en"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# What the authentication step leaves in the request's environ: the user's chosen locale.
USER_LOCALE = "crowd.user_locale"
# Countries whose customers and members are German speakers unless they say otherwise.
GERMAN_COUNTRIES = frozenset({"DE", "AT", "CH", "LI", "LU"})

babel = Babel()


def _(msgid: str, **params) -> str:
    """`msgid` in the current locale, its `{placeholders}` filled from `params`."""
    text = _babel_gettext(msgid)
    return text.format(**params) if params else text


def _l(msgid: str, **params) -> LazyString:
    """`_` deferred: translated when turned into a string (in the locale in force then)."""
    return LazyString(_, msgid, **params)


def N_(msgid: str) -> str:
    """Marks `msgid` for the catalogue without translating it (translated later by `_`)."""
    return msgid


def msgid_of(text) -> tuple[str, dict] | None:
    """The msgid and params of a lazy message, None for plain text."""
    if isinstance(text, LazyString) and text._func is _:
        return text._args[0], dict(text._kwargs)
    return None


def render(text, locale: str | None):
    """`text` (plain or lazy, or a dict/list of them) as a string in `locale`."""
    if text is None:
        return None
    with force_locale(locale or default_locale()):
        return _deep_str(text)


def _deep_str(value):
    if isinstance(value, dict):
        return {key: _deep_str(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_deep_str(item) for item in value]
    if isinstance(value, LazyString):
        return str(value)
    return value


def is_lazy(value) -> bool:
    """Whether `value` (or anything in a dict/list of it) waits for a locale."""
    if isinstance(value, dict):
        return any(is_lazy(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_lazy(item) for item in value)
    return isinstance(value, LazyString)


def default_locale() -> str:
    """The locale of a person who chose none and whose request does not say (DEFAULT_LOCALE)."""
    return current_app.config.get("DEFAULT_LOCALE") or "de"


def negotiate(accept_language: str | None) -> str | None:
    """The best of LOCALES for an Accept-Language header, None when it names neither."""
    if not accept_language:
        return None
    # Best quality first; a regional tag ("de-CH", "en_GB") counts for its language.
    for value, quality in parse_accept_header(accept_language, LanguageAccept):
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in LOCALES:
            return primary
    return None


def request_locale() -> str | None:
    """The locale the request's Accept-Language asks for, None when it names neither."""
    if not has_request_context():
        return None
    return negotiate(request.headers.get("Accept-Language"))


def locale_for_country(country: str | None) -> str | None:
    """German for an address in a German-speaking country; None (not chosen) elsewhere."""
    return "de" if country and country.upper() in GERMAN_COUNTRIES else None


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module docstring)."""
    if not has_request_context():
        return SOURCE_LOCALE
    return request.environ.get(USER_LOCALE) or request_locale() or default_locale()


def current_locale() -> str:
    return str(get_locale() or SOURCE_LOCALE)


def use_user_locale(locale: str | None) -> None:
    """The authentication step tells the signed-in user's saved locale (None: not chosen)."""
    if has_request_context():
        request.environ[USER_LOCALE] = locale
        refresh()


# --- the recipients' locales (accounts owns the users; it installs the lookup) --------------

_locale_lookup: list[Callable[[Iterable[int]], dict[int, str | None]]] = []


def install_locale_lookup(lookup: Callable[[Iterable[int]], dict[int, str | None]]) -> None:
    """Tell the core where users' saved locales are: `lookup(user_ids) -> {id: locale}`."""
    _locale_lookup[:] = [lookup]


def locales_of(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's locale (saved, else the default), in one query."""
    ids = list(dict.fromkeys(user_ids))
    saved = _locale_lookup[0](ids) if _locale_lookup and ids else {}
    fallback = default_locale()
    return {user_id: saved.get(user_id) or fallback for user_id in ids}


# --- marshmallow's and webargs' own messages ------------------------------------------------

# The generic messages of marshmallow's fields and validators, as templates: a message that
# matches one is rendered from its translation. Listed here so the catalogue has them.
VALIDATION_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid period of time."),
    N_("Not a valid UUID."),
    N_("Not a valid URL."),
    N_("Not a valid email address."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid decimal."),
    N_("Not a valid IP address."),
    N_("Not a valid IPv4 address."),
    N_("Not a valid IPv6 address."),
    N_("Not a valid enum."),
    N_("Not a valid JSON."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Number too large."),
    N_("Cannot be formatted as a datetime."),
    N_("Cannot be formatted as a date."),
    N_("Cannot be formatted as a time."),
    N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be less than {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be one of: {choices}."),
    N_("Invalid value for {field}."),
    N_("String does not match expected pattern."),
    N_("Must be equal to {other}."),
    N_("Invalid {input}."),
    N_("Not a valid datetime ISO 8601 string."),
    N_("Invalid request body."),
    N_("Unsupported value: {input}"),
    N_("Must be one of: {choices}"),
    N_("Invalid input."),
    N_("Invalid type."),
    N_("Not a valid IP interface."),
    N_("Not a valid IPv4 interface."),
    N_("Not a valid IPv6 interface."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid naive datetime."),
    N_("Not a valid aware datetime."),
    N_("One or more of the choices you made was in: {values}."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_('"{input}" cannot be formatted as a date.'),
    N_('"{input}" cannot be formatted as a datetime.'),
    N_('"{input}" cannot be formatted as a time.'),
    N_("{input} cannot be formatted as a timedelta."),
)
# marshmallow's building blocks of the messages above (Range's operators, the {obj_type}
# forms of the temporal fields): never shown as they are.
TEMPLATE_PARTS = frozenset(
    {
        "Must be {max_op} {{max}}.",
        "Must be {min_op} {{min}} and {max_op} {{max}}.",
        "Must be {min_op} {{min}}.",
        "greater than",
        "greater than or equal to",
        "less than",
        "less than or equal to",
        "Not a valid {awareness} {obj_type}.",
        "Not a valid {obj_type}.",
        '"{input}" cannot be formatted as a {obj_type}.',
        "{input!r} cannot be formatted as a timedelta.",
    }
)


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)


_PATTERNS = [(template, _pattern(template)) for template in VALIDATION_MESSAGES]


def translate_validation_message(message):
    """A marshmallow/webargs message in the current locale (our own texts pass through as
    they are: they were translated where they were raised)."""
    if not isinstance(message, str):
        return message
    for template, pattern in _PATTERNS:
        match = pattern.match(message)
        if match:
            return _(template, **match.groupdict())
    return message


def translate_validation_messages(messages):
    """translate_validation_message over marshmallow's nested {field: [messages]} shape."""
    if isinstance(messages, dict):
        return {key: translate_validation_messages(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [translate_validation_messages(item) for item in messages]
    return translate_validation_message(str(messages) if is_lazy(messages) else messages)


def marshmallow_templates() -> set[str]:
    """The templates marshmallow's generic fields and validators use (a test holds
    VALIDATION_MESSAGES to them)."""
    found: set[str] = set()
    for module in (ma_fields, ma_validate):
        for value in vars(module).values():
            if isinstance(value, type):
                for name in ("default_error_messages",):
                    found.update(
                        text for text in getattr(value, name, {}).values() if isinstance(text, str)
                    )
                for name in dir(value):
                    if name.startswith("message_") or name == "default_message":
                        text = getattr(value, name, None)
                        if isinstance(text, str):
                            found.add(text)
    return found


# --- the app --------------------------------------------------------------------------------


def _reset_locale() -> None:
    # An app context may outlive a request (tests): the cached locale is the request's own.
    refresh()


def _content_language(response: Response) -> Response:
    response.headers.setdefault("Content-Language", current_locale())
    vary = response.headers.get("Vary", "")
    if "accept-language" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    return response


def init_i18n(app: Flask) -> None:
    """Flask-Babel with our catalogues and locale selector; Content-Language on responses."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", SOURCE_LOCALE)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.before_request(_reset_locale)
    app.after_request(_content_language)


def available_locales() -> list[Locale]:
    return [Locale.parse(code) for code in LOCALES]
