"""Audit log of staff actions: every state-changing call by a community manager or admin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow


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
    request_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
