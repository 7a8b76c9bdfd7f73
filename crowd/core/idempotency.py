"""Idempotency-Key handling: the first successful response is stored with the unit of work.

Secrets a response carries (a new API key) are never stored: the endpoint names those fields
(`@blp.idempotent(secrets=("token",))`), the stored copy has them null, and a replay answers
with that copy and says which fields it withheld (header Idempotent-Secrets-Withheld).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from flask import Response, current_app, request
from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.auth import authenticate
from crowd.core.db import Base, IdMixin, UTCDateTime, db, utcnow
from crowd.core.errors import BadRequest, Conflict, DomainError, Unprocessable
from crowd.core.i18n import _, _l

HEADER = "Idempotency-Key"
WITHHELD_HEADER = "Idempotent-Secrets-Withheld"
IDEMPOTENCY_CONSTRAINT = "uq_idempotency_records_scope_key"
REQUEST_MARKER = "crowd.idempotency"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(Unprocessable):
    """The Idempotency-Key was already used with a different request (method, path or body)."""

    title, type_slug = _l("Idempotency-Key reused"), "idempotency-key-reused"


class IdempotencyKeyInProgress(Conflict):
    """The first request with this Idempotency-Key is still running; retry shortly."""

    title, type_slug = _l("Idempotency-Key in progress"), "idempotency-key-in-progress"


class IdempotencyRecord(IdMixin, Base):
    """One caller's key, the fingerprint of the request it was first used with, and the reply."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key", name=IDEMPOTENCY_CONSTRAINT),)

    scope: Mapped[str] = mapped_column(String(80), nullable=False)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[str] = mapped_column(Text, nullable=False)
    response_type: Mapped[str] = mapped_column(String(100), nullable=False)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


def _scope() -> str:
    principal = authenticate()
    if principal is not None:
        return principal.scope
    # Anonymous creation (registration): keys are scoped to the client address.
    return f"anon:{request.remote_addr or 'unknown'}"


def _fingerprint() -> str:
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    raw = f"{request.method} {request.path}?{request.query_string.decode()}\n{canonical}"
    # Keyed: a body may hold a password, and a plain hash of it would let whoever reads the
    # table test guesses at hash speed.
    secret_key = current_app.config["CROWD_SETTINGS"].secret_key.encode()
    return hmac.new(secret_key, raw.encode(), hashlib.sha256).hexdigest()


def _find(scope: str, key: str) -> IdempotencyRecord | None:

    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at > utcnow(),
        )
    )


def replay(record: IdempotencyRecord, secrets: Sequence[str] = ()) -> Response:
    response = Response(
        record.response_body, status=record.status_code, mimetype=record.response_type
    )
    response.headers["Idempotent-Replayed"] = "true"
    if secrets:
        response.headers[WITHHELD_HEADER] = ", ".join(secrets)
    if record.location:
        response.headers["Location"] = record.location
    return response


def _check_reuse(record: IdempotencyRecord, fingerprint: str, secrets: Sequence[str]) -> Response:
    if not hmac.compare_digest(record.fingerprint, fingerprint):
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used with a different request."),
            errors={"headers": {HEADER: ["already used with a different request"]}},
        )
    return replay(record, secrets)


def without_secrets(body: str, secrets: Sequence[str]) -> str:
    """The JSON body with each named field (dotted for nested ones) set to null."""
    if not secrets:
        return body
    document = json.loads(body)
    for path in secrets:
        *parents, name = path.split(".")
        node = document
        for parent in parents:
            node = node.get(parent) if isinstance(node, dict) else None
        if isinstance(node, dict) and name in node:
            node[name] = None
    return json.dumps(document)


def run_idempotent(view: Callable[[], Response], *, secrets: Sequence[str] = ()) -> Response:
    """Run a creation view at most once per (caller, key); see docs/idempotency in README.

    `secrets` names response fields that are shown once and never stored (nor replayed).
    """

    key = request.headers.get(HEADER)
    if key is None:
        return view()
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            _(
                "{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                HEADER=HEADER,
                MAX_KEY_LENGTH=MAX_KEY_LENGTH,
            ),
            errors={"headers": {HEADER: ["must be 1 to 255 characters"]}},
        )
    scope, fingerprint = _scope(), _fingerprint()
    existing = _find(scope, key)
    if existing is not None:
        return _check_reuse(existing, fingerprint, secrets)
    try:
        response = view()
    except (DomainError, IntegrityError):
        # A concurrent twin may have committed meanwhile (e.g. "email taken" is our own
        # first attempt): answer as it did rather than with this attempt's error.
        db.session.rollback()
        winner = _find(scope, key)
        if winner is not None:
            return _check_reuse(winner, fingerprint, secrets)
        raise
    if response.status_code >= 400:
        return response
    settings = current_app.config["CROWD_SETTINGS"]
    # An expired record with the same key would block the unique constraint.
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at <= utcnow(),
        )
    )
    db.session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=fingerprint,
            status_code=response.status_code,
            response_body=without_secrets(response.get_data(as_text=True), secrets),
            response_type=response.mimetype or "application/json",
            location=response.headers.get("Location"),
            expires_at=utcnow() + timedelta(hours=settings.idempotency_ttl_hours),
        )
    )
    # The unit of work commits it with the created objects; a concurrent twin loses there.
    request.environ[REQUEST_MARKER] = (scope, key, fingerprint, tuple(secrets))
    return response


def replay_after_race() -> Response:
    """After a lost race on the key's unique constraint, answer as the winner did."""
    scope, key, fingerprint, secrets = request.environ[REQUEST_MARKER]
    record = _find(scope, key)
    if record is None:
        raise IdempotencyKeyInProgress(
            _("A request with this Idempotency-Key is in progress; retry shortly.")
        )
    return _check_reuse(record, fingerprint, secrets)


def purge_expired() -> int:
    """Delete expired records (periodic job)."""

    result = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    return result.rowcount or 0
