"""Help centre categories, articles with their versions and targets, feedback and links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = [
    "ARTICLE_AUDIENCES",
    "ARTICLE_STATUSES",
    "LINK_TARGETS",
    "ArticleFeedback",
    "ArticleLink",
    "ArticleSkill",
    "ArticleVersion",
    "HelpArticle",
    "HelpCategory",
]

ARTICLE_STATUSES = ("draft", "published", "archived")
# Who may read a published article: members (and applicants), customers, or everyone.
ARTICLE_AUDIENCES = ("members", "customers", "everyone")
# onboarding_step: target_key is a step name of onboarding.steps.STEPS;
# training_module: target_key is a training module's code.
LINK_TARGETS = ("onboarding_step", "training_module")


class HelpCategory(IdMixin, Base):
    """A section of the help centre; listed by position, then name."""

    __tablename__ = "help_categories"

    slug: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class HelpArticle(IdMixin, TimestampMixin, Base):
    """An article; its text lives in versions, readers see the published one."""

    __tablename__ = "help_articles"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status_known"),
        CheckConstraint("audience IN ('members', 'customers', 'everyone')", name="audience_known"),
        CheckConstraint(
            "min_level_rank IS NULL OR max_level_rank IS NULL OR min_level_rank <= max_level_rank",
            name="level_range",
        ),
    )

    slug: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("help_categories.id"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    audience: Mapped[str] = mapped_column(String(20), nullable=False, default="members")
    # The levels it targets (ranks of the level ladder; None: open-ended).
    min_level_rank: Mapped[int | None] = mapped_column(SmallInteger)
    max_level_rank: Mapped[int | None] = mapped_column(SmallInteger)
    # The version readers see (None until first published).
    published_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("help_article_versions.id", use_alter=True)
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    helpful_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)


class ArticleVersion(IdMixin, Base):
    """One text of an article; versions are never edited once published."""

    __tablename__ = "help_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("help_articles.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ArticleSkill(Base):
    """The skills an article targets (none: all)."""

    __tablename__ = "help_article_skills"

    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("help_articles.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(BigId, ForeignKey("skills.id"), primary_key=True)


class ArticleFeedback(Base):
    """Was this helpful: one answer per reader and article, which they may change."""

    __tablename__ = "help_article_feedback"

    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("help_articles.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The version the reader saw when answering.
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("help_article_versions.id"), nullable=False
    )
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ArticleLink(IdMixin, Base):
    """An article shown with an onboarding step or a training module."""

    __tablename__ = "help_article_links"
    __table_args__ = (
        CheckConstraint(
            "target_kind IN ('onboarding_step', 'training_module')", name="target_known"
        ),
        UniqueConstraint("article_id", "target_kind", "target_key"),
        Index("ix_help_article_links_target", "target_kind", "target_key"),
    )

    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("help_articles.id"), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    target_key: Mapped[str] = mapped_column(String(60), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
