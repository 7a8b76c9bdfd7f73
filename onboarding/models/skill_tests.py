"""Skill tests: a test per skill, its questions, and every attempt a member makes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = ["ATTEMPT_STATUSES", "SkillTest", "SkillTestAttempt", "SkillTestQuestion"]

ATTEMPT_STATUSES = ("started", "submitted", "expired")


class SkillTest(IdMixin, TimestampMixin, Base):
    """The test for one skill. Its questions may change; attempts keep what they were asked."""

    __tablename__ = "skill_tests"
    __table_args__ = (
        CheckConstraint("pass_mark_percent BETWEEN 1 AND 100", name="pass_mark_range"),
        CheckConstraint("retry_delay_hours >= 0", name="retry_delay_non_negative"),
        CheckConstraint("questions_per_attempt >= 1", name="questions_positive"),
        CheckConstraint("time_limit_minutes BETWEEN 1 AND 600", name="time_limit_range"),
    )

    skill_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skills.id"), nullable=False, unique=True
    )
    pass_mark_percent: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=80)
    retry_delay_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=24)
    questions_per_attempt: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=10)
    time_limit_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=30)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    questions: Mapped[list[SkillTestQuestion]] = relationship(
        back_populates="test", order_by="SkillTestQuestion.position"
    )


class SkillTestQuestion(IdMixin, Base):
    """A multiple-choice question; `correct` never leaves the server towards members."""

    __tablename__ = "skill_test_questions"

    test_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_tests.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    prompt: Mapped[str] = mapped_column(Text, nullable=False)
    # ["option A", "option B", …]; `correct` holds the indexes of the right ones.
    options: Mapped[list] = mapped_column(JSON, nullable=False)
    correct: Mapped[list] = mapped_column(JSON, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    test: Mapped[SkillTest] = relationship(back_populates="questions")


class SkillTestAttempt(IdMixin, Base):
    """One sitting of a test: the questions served, the answers given, the score."""

    __tablename__ = "skill_test_attempts"
    __table_args__ = (
        CheckConstraint("status IN ('started', 'submitted', 'expired')", name="status_known"),
        CheckConstraint("score_percent IS NULL OR score_percent BETWEEN 0 AND 100", name="score"),
        Index("ix_skill_test_attempts_member_skill", "member_id", "skill_id"),
        # One sitting at a time per member and test (a double tap on "start" gets one).
        Index(
            "uq_skill_test_attempts_open",
            "member_id",
            "test_id",
            unique=True,
            postgresql_where=text("status = 'started'"),
            sqlite_where=text("status = 'started'"),
        ),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    test_id: Mapped[int] = mapped_column(BigId, ForeignKey("skill_tests.id"), nullable=False)
    skill_id: Mapped[int] = mapped_column(BigId, ForeignKey("skills.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="started")
    # The question ids served, in order; scoring uses exactly these.
    question_ids: Mapped[list] = mapped_column(JSON, nullable=False)
    # {question_id: [option indexes]} as submitted.
    answers: Mapped[dict | None] = mapped_column(JSON)
    pass_mark_percent: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    score_percent: Mapped[int | None] = mapped_column(SmallInteger)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After a failed attempt: no new one before this.
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
