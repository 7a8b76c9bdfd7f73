"""Training modules and who completed them (feeds the level requirements)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = ["COMPLETION_MODES", "TrainingCompletion", "TrainingModule"]

# self_paced: the member marks it done in the app; attended: a community manager records it.
COMPLETION_MODES = ("self_paced", "attended")


class TrainingModule(IdMixin, TimestampMixin, Base):
    __tablename__ = "training_modules"
    __table_args__ = (
        CheckConstraint("completion_mode IN ('self_paced', 'attended')", name="mode_known"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 2400", name="duration_range"),
    )

    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # Optional focus: a category of the skill catalogue.
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("skill_categories.id"))
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    completion_mode: Mapped[str] = mapped_column(String(20), nullable=False, default="self_paced")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class TrainingCompletion(Base):
    __tablename__ = "training_completions"

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    module_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("training_modules.id"), primary_key=True
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Who recorded it: the member (self-paced) or a community manager (attended).
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
