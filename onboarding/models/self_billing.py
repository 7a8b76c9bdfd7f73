"""Agreements a member makes while onboarding beyond the house rules: self-billing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = ["SelfBillingAgreement"]


class SelfBillingAgreement(IdMixin, Base):
    """One decision of a member on self-billing (Gutschriftverfahren, DE §14 (2) UStG, AT §11
    (7) UStG): the platform issues the documents for their earnings as credit notes. Rows are
    never changed: the newest (highest id) is the member's current decision, a withdrawal is
    a new row with agreed false."""

    __tablename__ = "self_billing_agreements"
    __table_args__ = (Index("ix_self_billing_agreements_member", "member_id", "id"),)

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    agreed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The version of the agreement's text the member was shown (onboarding.self_billing.TEXTS).
    text_version: Mapped[str] = mapped_column(String(20), nullable=False)
    # The language the text was shown in.
    language: Mapped[str] = mapped_column(String(2), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
