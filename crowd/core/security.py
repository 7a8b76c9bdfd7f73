"""Security at the HTTP edge: request ids, request limits, security headers, CORS, limit keys.

- Every request has an id (the caller's `X-Request-Id` when it looks sane, else a fresh one):
  echoed in the response, put into 5xx problem bodies and into every log line.
- Bodies over MAX_REQUEST_BYTES are 413, URLs over MAX_URL_BYTES 414, more than
  MAX_HEADER_FIELDS header fields or one over MAX_HEADER_FIELD_BYTES 431, and JSON nested
  deeper than MAX_JSON_DEPTH 400, before any view, authentication or database work runs.
  gunicorn's own limits (gunicorn.conf.py) sit above these, so it is the app that answers,
  with problem+json; only what is beyond gunicorn's gets gunicorn's plain HTML page.
- Every response carries the security headers; the API's CSP allows nothing, the docs page's
  CSP allows its own scripts (the inline one by hash), styles and the spec.
- CORS only for the exact origins in CORS_ORIGINS (no wildcard, no credentials: the API
  authenticates with bearer tokens, not cookies).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from itertools import accumulate

from flask import Flask, Response, current_app, has_request_context, request
from flask_limiter import Limiter
from werkzeug.exceptions import (
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestURITooLarge,
)

from crowd.core.auth import current_principal
from crowd.core.errors import BadRequest, Unauthorized
from crowd.core.i18n import _
from crowd.core.request_ids import REQUEST_ID_HEADER, request_id

# Path plus query string; longer URLs are no request of ours. gunicorn's caps are higher
# (gunicorn.conf.py: a request line of 8190 bytes, 100 fields of 16380 bytes each).
MAX_URL_BYTES = 4096
# Browsers send about 20 header fields, proxies add a dozen; a bearer token is ~50 bytes.
MAX_HEADER_FIELDS = 64
MAX_HEADER_FIELD_BYTES = 8192  # name and value
# Our deepest schema nests four levels; Python's parser recurses per level.
MAX_JSON_DEPTH = 32

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
# Swagger UI sets inline styles and data: images; its inline start-up script is allowed by hash.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
HSTS = "max-age=31536000; includeSubDomains"

CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_ALLOW_HEADERS = (
    "Authorization, Content-Type, Idempotency-Key, X-API-Key, X-Device-Id, X-Request-Id"
)
CORS_EXPOSE_HEADERS = (
    "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Location, "
    "Idempotent-Replayed, Idempotent-Secrets-Withheld, X-Request-Id, ETag"
)
CORS_MAX_AGE = "600"


def rate_limit_key() -> str:
    """What a rate limit counts: the signed-in user (once the view authenticated), else the
    client address (the proxies' X-Forwarded-For with TRUSTED_PROXIES)."""
    try:
        return f"user:{current_principal().user_id}"
    except Unauthorized:
        return f"addr:{request.remote_addr or 'unknown'}"


# Storage is Redis with REDIS_URL, process memory on the embedded default (see config).
# Limits are per signed-in user, else per client address.
limiter = Limiter(key_func=rate_limit_key)


OWN_BODY_LIMIT = "crowd_own_body_limit"


def own_body_limit(view):
    """Mark a view that enforces a body limit of its own (file uploads) instead of
    MAX_REQUEST_BYTES; it must read the body in bounded steps."""
    setattr(view, OWN_BODY_LIMIT, True)
    return view


def install_security(app: Flask) -> None:
    """Register the request checks and the response headers on `app`."""
    app.before_request(_check_request)
    app.after_request(_secure_response)


def install_request_id_logging() -> None:
    """Give every log record a `request_id` ("-" outside requests), once per process."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "crowd_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = request_id() if has_request_context() else "-"
        return record

    factory.crowd_request_id = True
    logging.setLogRecordFactory(factory)


def _check_request() -> Response | None:
    request_id()
    if _is_preflight():
        return _preflight_response()
    environ = request.environ
    if len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) > MAX_URL_BYTES:
        raise RequestURITooLarge(f"URLs are limited to {MAX_URL_BYTES} bytes.")
    _check_headers(request.headers)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if getattr(current_app.view_functions.get(request.endpoint or ""), OWN_BODY_LIMIT, False):
        # The view reads its body against a limit of its own (an upload's), bounded as it reads;
        # None would fall back to MAX_CONTENT_LENGTH (Flask), so the stream's own cap is lifted.
        request.max_content_length = 2**63 - 1
    elif request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"Request bodies are limited to {limit} bytes.")
    if request.is_json and _json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        raise BadRequest(
            _(
                "The JSON body nests deeper than {MAX_JSON_DEPTH} levels.",
                MAX_JSON_DEPTH=MAX_JSON_DEPTH,
            )
        )
    return None


def _check_headers(headers) -> None:
    count = 0
    for name, value in headers.items():
        count += 1
        if len(name) + len(value) > MAX_HEADER_FIELD_BYTES:
            raise RequestHeaderFieldsTooLarge(
                f"A header field (name and value) is limited to {MAX_HEADER_FIELD_BYTES} bytes; "
                f"{name[:40]} is longer."
            )
    if count > MAX_HEADER_FIELDS:
        raise RequestHeaderFieldsTooLarge(
            f"A request may carry at most {MAX_HEADER_FIELDS} header fields, not {count}."
        )


def _json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in `body` (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be deeper than the limit: the common case costs two counts
    outside_strings = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", body)
    brackets = outside_strings.translate(None, delete=bytes(set(range(256)) - set(b"[]{}")))
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["CROWD_SETTINGS"].cors_origins:
        return origin
    return None


def _is_preflight() -> bool:
    return (
        request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
        and _allowed_origin() is not None
    )


def _preflight_response() -> Response:
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, no type
    response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
    response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _secure_response(response: Response) -> Response:
    headers = response.headers
    headers[REQUEST_ID_HEADER] = request_id()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # CORS requests are not subject to it; it stops other sites embedding our responses.
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    # A page that set its own policy keeps it (the console's: its own scripts and styles).
    headers.setdefault(
        "Content-Security-Policy",
        _docs_csp(response) if request.endpoint == DOCS_ENDPOINT else API_CSP,
    )
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    # Answers to credentialed calls are personal; others may set their own caching. One with
    # an ETag is kept by the caller alone and revalidated each time (If-None-Match → 304).
    if "Authorization" in request.headers or "X-API-Key" in request.headers:
        headers["Cache-Control"] = "private, no-cache" if "ETag" in headers else "no-store"
    else:
        headers.setdefault("Cache-Control", "no-store")
    _cors_headers(response)
    return response


def _docs_csp(response: Response) -> str:
    body = response.get_data()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return _DOCS_CSP.format(hashes=hashes)


def _cors_headers(response: Response) -> None:
    if not current_app.config["CROWD_SETTINGS"].cors_origins:
        return
    # The answer depends on Origin whether or not this one is allowed: caches must know.
    response.vary.add("Origin")
    origin = _allowed_origin()
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
