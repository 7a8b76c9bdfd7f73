"""Domain errors and the one handler that renders every error as application/problem+json."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from crowd.core.db import CONTENTION, CONTENTION_ATTEMPTS, db, is_contention, will_retry
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
    title = "Bad request"
    type_slug = "bad-request"
    # Response headers an error needs (e.g. Retry-After on a 429); set by the subclass.
    headers: dict | None = None
    # Further problem types an instance may switch to, {slug: (status, title)}: documented too.
    other_types: dict[str, tuple[int, str]] = {}

    def __init__(self, detail: str = "", *, errors: dict | None = None, **extra) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra


class BadRequest(DomainError):
    status, title, type_slug = 400, "Bad request", "bad-request"


class Unauthorized(DomainError):
    status, title, type_slug = 401, "Authentication required", "unauthorized"


class Forbidden(DomainError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(DomainError):
    status, title, type_slug = 409, "Conflict", "conflict"


class Unprocessable(DomainError):
    status, title, type_slug = 422, "Validation failed", "validation-failed"


class TooManyRequests(DomainError):
    status, title, type_slug = 429, "Too many requests", "too-many-requests"


class ServiceUnavailable(DomainError):
    status, title, type_slug = 503, "Service unavailable", "service-unavailable"


# Problem types the handlers below answer with that no DomainError class carries.
HANDLER_PROBLEM_TYPES = {
    "contention": (503, "Busy, try again"),
    "internal-server-error": (500, "Internal server error"),
}


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
    types = {
        slug: {"status": status, "title": title, "type": problem_type_uri(slug)}
        for slug, (status, title) in HANDLER_PROBLEM_TYPES.items()
    }
    for cls in named_errors():
        doc = (cls.__doc__ or "").strip()
        entry = {"status": cls.status, "title": cls.title, "type": problem_type_uri(cls.type_slug)}
        if doc and cls.__module__ != __name__:
            entry["description"] = " ".join(doc.split())
        types.setdefault(cls.type_slug, entry)
        for slug, (status, title) in cls.other_types.items():
            types.setdefault(
                slug, {"status": status, "title": title, "type": problem_type_uri(slug)}
            )
    return dict(sorted(types.items()))


def field_error(field: str, message: str) -> Unprocessable:
    """A 422 naming the one field at fault, shaped like marshmallow's errors."""
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
    body = {
        "type": problem_type_uri(type_slug or _slug(title)),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
    }
    if errors:
        body["errors"] = errors
    if status >= 500 and request:
        # What a caller quotes when reporting it; the logs carry the same id.
        body["request_id"] = request_id()
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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
        detail = "The request has invalid fields; see errors."
        return problem(
            422, "Validation failed", detail, type_slug="validation-failed", errors=errors
        )
    headers = {}
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    detail = data.get("message") or error.description or error.name
    if status == 429:
        detail = f"Rate limit of {detail} exceeded; retry after the Retry-After seconds."
    return problem(status, error.name, str(detail), errors=errors, headers=headers)


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
        "Busy, try again",
        "The request collided with concurrent changes to the same data and nothing was "
        "saved; send it again.",
        type_slug="contention",
        headers={"Retry-After": "1"},
    )


def handle_database_unavailable(error: OperationalError) -> Response:
    _rollback()
    log.error("database unavailable: %s", error.orig)
    return problem(
        503,
        "Service unavailable",
        "The database is not reachable; try again shortly.",
        type_slug="service-unavailable",
        headers={"Retry-After": "5"},
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint refused the write: almost always a concurrent request that got there first."""
    _rollback()
    log.info("integrity error: %s", error.orig)
    return problem(
        409,
        "Conflict",
        "The change conflicts with data written meanwhile; reload and retry.",
        type_slug="conflict",
    )


def handle_data_error(error: DataError | OverflowError) -> Response:
    """The database refused a value (out of range, malformed): the client's input, not a crash."""
    _rollback()
    log.info("data error: %s", getattr(error, "orig", error))
    return problem(422, "Validation failed", "A value is out of range or malformed.")


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    _rollback()

    log.exception(
        "unhandled error on %s %s (request %s)", request.method, request.path, request_id()
    )
    # Never leak a stack trace or SQL to the caller.
    return problem(500, "Internal server error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    # SQLite's driver refuses integers beyond 64 bits with a bare OverflowError.
    app.register_error_handler(OverflowError, handle_data_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(Exception, handle_unexpected)
