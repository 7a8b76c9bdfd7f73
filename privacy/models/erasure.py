"""Privacy tables: erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__: list[str] = ["ERASURE_VIAS", "Erasure"]

# Who asked: the person themselves (with their password) or an admin (with a reason).
ERASURE_VIAS = ("self", "admin")


class Erasure(IdMixin, Base):
    """An account anonymised on request: who asked, why, when, and how many rows of each kind
    were anonymised, deleted or discarded. Holds no personal data itself (ids and counts)."""

    __tablename__ = "erasures"
    __table_args__ = (CheckConstraint("via IN ('self', 'admin')", name="via_known"),)

    # One erasure per account: a second request finds this one (409 already-erased).
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, unique=True)
    requested_by_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id"), nullable=False, index=True
    )
    via: Mapped[str] = mapped_column(String(10), nullable=False)
    # The admin's reason (a person's own request has none); say why, not who.
    reason: Mapped[str | None] = mapped_column(String(500))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # {kind: rows} — e.g. {"reviews": 2, "ticket_messages": 3, "files": 4}.
    counts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
