"""Audit log of staff actions: every state-changing call by a community manager or admin.

Recorded at the HTTP edge, so no staff endpoint can forget it: who (user, role, credential),
what (method, route, the ids in the path), the outcome (status) and the request id. A change
that succeeds is staged in the request's own transaction and commits with it, or not at all; a
refused or failed attempt is written in a small transaction of its own after the unit of work
rolled back. Request bodies are never stored: they may carry personal data; a route whose
change must be on record in full (the settings) notes it with `note_changes` (old and new).
Reads are not recorded, except where a route puts one on record with `record_read` (identity
document images): a GET's unit of work commits nothing, so its entry is written on its own
after it, and what was read does not leave when the entry cannot be written (503). Admins read
the log through `GET /api/v1/audit-log`; nothing in the API changes or deletes entries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import marshmallow as ma
from flask import Response, g, has_request_context, request
from marshmallow import validate
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.auth import Principal, current_principal
from crowd.core.db import SAFE_METHODS, Base, BigId, IdMixin, UTCDateTime, db, utcnow, will_retry
from crowd.core.errors import ServiceUnavailable, Unauthorized, field_error, handle_domain_error
from crowd.core.i18n import _
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of, paginate
from crowd.core.request_ids import request_id

log = logging.getLogger(__name__)


class AuditEntry(IdMixin, Base):
    """Who (user, role, credential) did what (method, route, ids in the path) and the outcome."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor_created", "actor_user_id", "created_at"),
        Index("ix_audit_log_endpoint_created", "endpoint", "created_at"),
    )

    actor_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(20), nullable=False)
    token_id: Mapped[int | None] = mapped_column(BigId)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    # The route's rule (e.g. /api/v1/tickets/<int:ticket_id>/assign), its endpoint and the
    # values in the path: what was acted on. Bodies are not stored (they may hold personal data).
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    endpoint: Mapped[str] = mapped_column(String(120), nullable=False)
    target: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    # What a change did, where its route notes it: {name: {"old": …, "new": …}}.
    changes: Mapped[dict | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )


# --- recording (after_request hooks, registered around the unit of work in create_app) ------

_CHANGES = "crowd_audit_changes"
# In the request's environ, not in `g`: an app context may outlive one request (tests).
_READ = "crowd.audit.read"


def note_changes(changes: dict) -> None:
    """Record with this request's entry what the change did ({name: {"old", "new"}})."""
    setattr(g, _CHANGES, changes)


def record_read(**target: int | list[int]) -> None:
    """Put this request on the staff audit log though it only reads (a GET), with `target`
    (ids) added to those in the path: for what only some staff may see. Call it before the
    refusal checks, so a refused attempt is on record too."""
    if has_request_context():
        request.environ[_READ] = {**request.environ.get(_READ, {}), **target}


def _read_on_record() -> bool:
    return request.method in SAFE_METHODS and _READ in request.environ


def stage_staff_action(response: Response) -> Response:
    """A staff member's successful change: add its entry to the transaction about to commit."""

    if response.status_code < 400 and request.method not in SAFE_METHODS:
        entry = _entry_for(response)
        if entry is not None:
            db.session.add(entry)
    return response


def record_refused_attempt(response: Response) -> Response:
    """A staff member's refused or failed attempt, or a read put on record (`record_read`):
    written on its own after the rollback."""

    read = _read_on_record()
    if (response.status_code < 400 and not read) or will_retry():
        # A run that lost a race in the database is no attempt of the caller's: it runs again.
        return response
    entry = _entry_for(response)
    if entry is None:
        return response
    try:
        db.session.add(entry)
        db.session.commit()
    except Exception:
        log.exception("could not record a staff action on %s", entry.endpoint)
        try:
            db.session.rollback()
        except Exception:  # a broken connection: the session is discarded at teardown
            log.exception("rollback after a failed audit write failed")
        if read and response.status_code < 400:
            # What only some may see does not leave off the record.
            return handle_domain_error(
                ServiceUnavailable(_("This read could not be recorded; try again shortly."))
            )
        # A refusal stands even when the log cannot be written (e.g. the database is down).
    return response


def _acting_staff() -> Principal | None:
    try:
        principal = current_principal()
    except Unauthorized:
        return None
    return principal if principal.is_staff else None


def _entry_for(response: Response) -> AuditEntry | None:
    if request.method in SAFE_METHODS and not _read_on_record():
        return None
    changes = g.pop(_CHANGES, None)
    principal = _acting_staff()
    if principal is None:
        return None

    target = {
        name: value if isinstance(value, int) else str(value)[:200]
        for name, value in (request.view_args or {}).items()
    }
    target.update(request.environ.get(_READ, {}))
    return AuditEntry(
        actor_user_id=principal.user_id,
        actor_role=principal.role,
        token_id=principal.token_id,
        method=request.method,
        path=(request.url_rule.rule if request.url_rule else request.path)[:500],
        endpoint=(request.endpoint or "")[:120],
        target=target,
        status_code=response.status_code,
        changes=changes if response.status_code < 400 else None,
        request_id=request_id(),
        remote_addr=(request.remote_addr or "")[:64] or None,
        created_at=utcnow(),
    )


# --- reading --------------------------------------------------------------------------------


def list_entries(
    *,
    actor: Principal,
    actor_id: int | None = None,
    endpoint: str | None = None,
    endpoints: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """A page of the audit log, newest first, filtered by actor, endpoint (or any of
    `endpoints`) and time [from, to)."""
    if since is not None and until is not None and until <= since:
        raise field_error("to", _("must be after from"))
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_user_id == actor_id)
    if endpoint is not None:
        query = query.where(AuditEntry.endpoint == endpoint)
    if endpoints is not None:
        query = query.where(AuditEntry.endpoint.in_(endpoints))
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    return paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[AuditEntry.created_at, AuditEntry.id],
        descending=True,
    )


# --- API ------------------------------------------------------------------------------------


class AuditQueryArgsSchema(PageArgsSchema):
    """?actor_id=&endpoint=&from=&to= (from inclusive, to exclusive, both with a time zone)."""

    actor_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    endpoint = ma.fields.String(
        validate=validate.Length(min=1, max=120),
        metadata={"example": "support_tickets.assign_ticket"},
    )
    since = ma.fields.AwareDateTime(data_key="from")
    until = ma.fields.AwareDateTime(data_key="to")


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    actor_user_id = ma.fields.Integer()
    actor_role = ma.fields.String()
    token_id = ma.fields.Integer(allow_none=True)
    method = ma.fields.String()
    path = ma.fields.String(metadata={"description": "The route, e.g. /api/v1/x/<int:x_id>"})
    endpoint = ma.fields.String()
    target = ma.fields.Dict(metadata={"description": "The values in the path: what was acted on"})
    status_code = ma.fields.Integer()
    changes = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "What the change did, where it is recorded (settings): "
            '{name: {"old": value, "new": value}}'
        },
    )
    request_id = ma.fields.String(allow_none=True)
    remote_addr = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


blp = CrowdBlueprint(
    "audit", __name__, url_prefix="/api/v1", description="Audit log of staff actions"
)


@blp.route("/audit-log", methods=["GET"])
@blp.auth("admin")
@blp.arguments(AuditQueryArgsSchema, location="query")
@blp.response(200, page_of(AuditEntrySchema))
def list_audit_log(args):
    """Staff actions, newest first: every non-GET call by a community manager or admin, with
    its outcome (refused and failed attempts too), and the reads of identity document images.
    Read-only."""
    return list_entries(actor=current_principal(), **args)
