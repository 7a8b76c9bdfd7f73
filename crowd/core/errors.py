"""Domain errors and the one handler that renders every error as application/problem+json."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from crowd.core.db import CONTENTION, CONTENTION_ATTEMPTS, db, is_contention, will_retry
from crowd.core.i18n import N_, _, _l, render, translate_validation_messages
from crowd.core.request_ids import request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://crowd.example/problems/"


class DomainError(Exception):
    """An expected failure with an HTTP status, a short title and a human-readable detail.

    A subclass that sets its own `type_slug` names a problem type clients may branch on: the
    slug is part of the API (listed in the OpenAPI document's x-problem-types), never renamed.
    """

    status = 400
    title = _l("Bad request")
    type_slug = "bad-request"
    # Response headers an error needs (e.g. Retry-After on a 429); set by the subclass.
    headers: dict | None = None
    # Further problem types an instance may switch to, {slug: (status, title)}: documented too.
    other_types: dict[str, tuple[int, str]] = {}

    def __init__(self, detail: str = "", *, errors: dict | None = None, **extra) -> None:
        # `detail` is translated where it is raised (`_(…)`) or lazy (`_l(…)`); a lazy title
        # (the class's) is rendered in the request's locale by the handler.
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra


class BadRequest(DomainError):
    status, title, type_slug = 400, _l("Bad request"), "bad-request"


class Unauthorized(DomainError):
    status, title, type_slug = 401, _l("Authentication required"), "unauthorized"


class Forbidden(DomainError):
    status, title, type_slug = 403, _l("Forbidden"), "forbidden"


class NotFound(DomainError):
    status, title, type_slug = 404, _l("Not found"), "not-found"


class Conflict(DomainError):
    status, title, type_slug = 409, _l("Conflict"), "conflict"


class Unprocessable(DomainError):
    status, title, type_slug = 422, _l("Validation failed"), "validation-failed"


class TooManyRequests(DomainError):
    status, title, type_slug = 429, _l("Too many requests"), "too-many-requests"


class ServiceUnavailable(DomainError):
    status, title, type_slug = 503, _l("Service unavailable"), "service-unavailable"


# Problem types the handlers below answer with that no DomainError class carries.
HANDLER_PROBLEM_TYPES = {
    "contention": (503, _l("Busy, try again")),
    "internal-server-error": (500, _l("Internal server error")),
}

# Werkzeug's own errors (routing, body limits, rate limits): their names and default
# descriptions, as msgids.
HTTP_TEXTS = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Not Acceptable"),
    N_("Conflict"),
    N_("Gone"),
    N_("Request Entity Too Large"),
    N_("Unsupported Media Type"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Not Implemented"),
    N_("Service Unavailable"),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_(
        "The server could not verify that you are authorized to access the URL requested. You "
        "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
        "understand how to supply the credentials required."
    ),
    N_(
        "You don't have the permission to access the requested resource. It is either "
        "read-protected or not readable by the server."
    ),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually please "
        "check your spelling and try again."
    ),
    N_("The method is not allowed for the requested URL."),
    N_(
        "A conflict happened while processing the request. The resource might have been "
        "modified while the request was being processed."
    ),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("The server does not support the media type transmitted in the request."),
    N_("The request was well-formed but was unable to be followed due to semantic errors."),
    N_("This user has exceeded an allotted request count. Try again later."),
    N_(
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application."
    ),
    N_(
        "The server is temporarily unable to service your request due to maintenance downtime "
        "or capacity problems. Please try again later."
    ),
)


def problem_type_uri(slug: str) -> str:
    """The stable `type` URI of a problem slug."""
    return f"{PROBLEM_TYPE_BASE}{slug}"


def named_errors() -> list[type[DomainError]]:
    """Every DomainError class that names its own problem type (sets `type_slug` itself)."""
    found, todo = [], list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "type_slug" in vars(cls):
            found.append(cls)
    return found


def problem_types() -> dict[str, dict]:
    """The problem types of every imported error class and of the handlers, by slug."""
    # The document is in English, the catalogue's source language.
    types = {
        slug: {"status": status, "title": render(title, "en"), "type": problem_type_uri(slug)}
        for slug, (status, title) in HANDLER_PROBLEM_TYPES.items()
    }
    for cls in named_errors():
        doc = (cls.__doc__ or "").strip()
        entry = {
            "status": cls.status,
            "title": render(cls.title, "en"),
            "type": problem_type_uri(cls.type_slug),
        }
        if doc and cls.__module__ != __name__:
            entry["description"] = " ".join(doc.split())
        types.setdefault(cls.type_slug, entry)
        for slug, (status, title) in cls.other_types.items():
            types.setdefault(
                slug,
                {"status": status, "title": render(title, "en"), "type": problem_type_uri(slug)},
            )
    return dict(sorted(types.items()))


def field_error(field: str, message: str) -> Unprocessable:
    """A 422 naming the one field at fault, shaped like marshmallow's errors."""
    message = str(message)
    return Unprocessable(f"{field}: {message}", errors={"json": {field: [message]}})


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_slug: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
    **extra,
) -> Response:
    # Titles and details are translated (or lazy) texts; the field messages of marshmallow
    # and webargs are translated here, in the request's locale.
    title, detail = str(title), str(detail)
    body = {
        "type": problem_type_uri(type_slug or _slug(title)),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
    }
    if errors:
        body["errors"] = translate_validation_messages(errors)
    if status >= 500 and request:
        # What a caller quotes when reporting it; the logs carry the same id.
        body["request_id"] = request_id()
    body.update({k: _plain(v) for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _plain(value):
    return render(value, None) if value is not None and not isinstance(value, str) else value


def _slug(title: str) -> str:
    return "-".join(title.lower().split())


def _rollback() -> None:

    try:
        db.session.rollback()
    except Exception:  # the session may already be unusable; nothing more to undo
        log.exception("rollback after error failed")


def handle_domain_error(error: DomainError) -> Response:
    _rollback()
    return problem(
        error.status,
        error.title,
        error.detail,
        type_slug=error.type_slug,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def handle_http_exception(error: HTTPException) -> Response:
    _rollback()
    data = getattr(error, "data", None) or {}
    errors = data.get("messages")
    status = error.code or 500
    if status == 422 and errors:
        detail = _("The request has invalid fields; see errors.")
        return problem(
            422, _("Validation failed"), detail, type_slug="validation-failed", errors=errors
        )
    headers = {}
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    detail = data.get("message") or _(error.description or error.name)
    if status == 429:
        detail = _(
            "Rate limit of {limit} exceeded; retry after the Retry-After seconds.", limit=detail
        )
    slug = _slug(error.name)
    return problem(
        status, _(error.name), str(detail), type_slug=slug, errors=errors, headers=headers
    )


def handle_operational_error(error: OperationalError) -> Response:
    """The database failed the statement: a lost race (retried), or it is not reachable."""

    if is_contention(error):
        return handle_contention(error)
    return handle_database_unavailable(error)


def handle_contention(error: OperationalError) -> Response:
    """A deadlock or serialization failure: marked for RetryOnContention to run the request
    again; answered with the contention problem only when no retry is left."""

    _rollback()
    request.environ[CONTENTION] = True
    if will_retry():
        log.warning("lost a race in the database, running the request again: %s", error.orig)
    else:
        log.error(
            "lost a race in the database %d times, giving up: %s", CONTENTION_ATTEMPTS, error.orig
        )
    return problem(
        503,
        _("Busy, try again"),
        _(
            "The request collided with concurrent changes to the same data and nothing was "
            "saved; send it again."
        ),
        type_slug="contention",
        headers={"Retry-After": "1"},
    )


def handle_database_unavailable(error: OperationalError) -> Response:
    _rollback()
    log.error("database unavailable: %s", error.orig)
    return problem(
        503,
        _("Service unavailable"),
        _("The database is not reachable; try again shortly."),
        type_slug="service-unavailable",
        headers={"Retry-After": "5"},
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint refused the write: almost always a concurrent request that got there first."""
    _rollback()
    log.info("integrity error: %s", error.orig)
    return problem(
        409,
        _("Conflict"),
        _("The change conflicts with data written meanwhile; reload and retry."),
        type_slug="conflict",
    )


def handle_data_error(error: DataError | OverflowError) -> Response:
    """The database refused a value (out of range, malformed): the client's input, not a crash."""
    _rollback()
    log.info("data error: %s", getattr(error, "orig", error))
    return problem(
        422,
        _("Validation failed"),
        _("A value is out of range or malformed."),
        type_slug="validation-failed",
    )


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    _rollback()

    log.exception(
        "unhandled error on %s %s (request %s)", request.method, request.path, request_id()
    )
    # Never leak a stack trace or SQL to the caller.
    return problem(
        500,
        _("Internal server error"),
        _("Something went wrong on our side."),
        type_slug="internal-server-error",
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    # SQLite's driver refuses integers beyond 64 bits with a bare OverflowError.
    app.register_error_handler(OverflowError, handle_data_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(Exception, handle_unexpected)
