"""Topic groups, who belongs to them, posts and replies, reports, mutes and moderation log."""

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
    "GROUP_KINDS",
    "MODERATION_ACTIONS",
    "PROGRAMMES",
    "REPORT_STATUSES",
    "CommunityMute",
    "GroupMembership",
    "ModerationAction",
    "PostReport",
    "TopicGroup",
    "TopicPost",
]

# skill: members with the skill (verified, if the group says so); region: members in the
# country (and postcode prefix or city); programme: mentors, mentees or top performers.
GROUP_KINDS = ("skill", "region", "programme")
PROGRAMMES = ("mentors", "mentees", "top_performers")
REPORT_STATUSES = ("open", "upheld", "dismissed")
MODERATION_ACTIONS = (
    "hide",
    "unhide",
    "lock",
    "unlock",
    "pin",
    "unpin",
    "mute",
    "unmute",
    "archive_group",
)


class TopicGroup(IdMixin, TimestampMixin, Base):
    """A group about a skill, a region or a programme; community.qualification says who
    may join it."""

    __tablename__ = "topic_groups"
    __table_args__ = (
        CheckConstraint("kind IN ('skill', 'region', 'programme')", name="kind_known"),
        CheckConstraint(
            "programme IS NULL OR programme IN ('mentors', 'mentees', 'top_performers')",
            name="programme_known",
        ),
        CheckConstraint(
            "(kind = 'skill' AND skill_id IS NOT NULL) "
            "OR (kind = 'region' AND country IS NOT NULL) "
            "OR (kind = 'programme' AND programme IS NOT NULL)",
            name="qualification_named",
        ),
    )

    slug: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    skill_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("skills.id"))
    requires_verified_skill: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    country: Mapped[str | None] = mapped_column(String(2))
    postcode_prefix: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    programme: Mapped[str | None] = mapped_column(String(20))
    # Members below this level rank do not qualify (0: any active member).
    min_level_rank: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    # Archived groups are read-only and hidden from discovery.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    member_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)


class GroupMembership(Base):
    """A member in a group; TopicGroup.member_count counts these rows."""

    __tablename__ = "topic_group_memberships"
    __table_args__ = (Index("ix_topic_group_memberships_member", "member_id"),)

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("topic_groups.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TopicPost(IdMixin, Base):
    """A thread's opening post (parent_id None, with a title) or a reply to it."""

    __tablename__ = "topic_posts"
    __table_args__ = (
        CheckConstraint(
            "(parent_id IS NULL AND title IS NOT NULL) "
            "OR (parent_id IS NOT NULL AND title IS NULL)",
            name="thread_has_title",
        ),
        Index("ix_topic_posts_group_thread", "group_id", "parent_id", "pinned", "last_activity_at"),
        Index("ix_topic_posts_parent", "parent_id", "id"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("topic_groups.id"), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("topic_posts.id"))
    author_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Threads only: pinned threads list first; locked threads take no replies.
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    reply_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class PostReport(IdMixin, Base):
    """A member's report of a post (once per reporter and post), decided by staff."""

    __tablename__ = "topic_post_reports"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_user_id"),
        CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status_known"),
        Index("ix_topic_post_reports_status", "status", "created_at"),
    )

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("topic_posts.id"), nullable=False)
    reporter_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    note: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommunityMute(IdMixin, Base):
    """A member may not post in topic groups until `until` (None: until lifted)."""

    __tablename__ = "community_mutes"

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class ModerationAction(IdMixin, Base):
    """Who moderated what, when and why: the group's moderation log."""

    __tablename__ = "topic_moderation_actions"
    __table_args__ = (Index("ix_topic_moderation_actions_group", "group_id", "created_at"),)

    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("topic_groups.id"))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("topic_posts.id"))
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
