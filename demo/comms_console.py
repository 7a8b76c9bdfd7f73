"""Demo data for the console's moderation queue: a few topic-group posts reported by fellow
group members (through community.reports, as the API reports them), so a new CM finds open
reports on first sign-in. Broadcasts and help-centre articles come with the history and
demo.helpcentre already."""

from __future__ import annotations

from sqlalchemy import select

from community.models import GroupMembership, PostReport, TopicPost
from community.reports import report_post
from crowd.core.auth import Principal
from crowd.core.db import commit
from crowd.extensions import db
from members.models import Member

REPORTS = (
    ("spam", "Looks like an advert for a shop."),
    ("off_topic", "This is not about the group's skill."),
    ("personal_data", "It names a customer's street."),
)


def seed_reported_posts() -> str:
    """Report the newest member replies of the demo groups, one per group (none twice)."""
    if db.session.scalar(select(PostReport.id).limit(1)) is not None:
        return "reported posts: present already"
    replies = db.session.execute(
        select(TopicPost.id, TopicPost.group_id, TopicPost.author_user_id, Member.id)
        .join(Member, Member.user_id == TopicPost.author_user_id)
        .where(TopicPost.parent_id.is_not(None), TopicPost.hidden_at.is_(None))
        .order_by(TopicPost.id.desc())
    ).all()
    reported: set[int] = set()
    for post_id, group_id, _author_user_id, author_member_id in replies:
        if len(reported) == len(REPORTS) or group_id in reported:
            continue
        reporter = db.session.execute(
            select(Member.id, Member.user_id)
            .join(GroupMembership, GroupMembership.member_id == Member.id)
            .where(GroupMembership.group_id == group_id, Member.id != author_member_id)
            .order_by(Member.id)
            .limit(1)
        ).first()
        if reporter is None:
            continue
        reason, note = REPORTS[len(reported)]
        actor = Principal(reporter.user_id, "member", 0, "demo", member_id=reporter.id)
        report_post(actor=actor, post_id=post_id, reason=reason, note=note)
        reported.add(group_id)
    commit()
    return f"reported posts: {len(reported)} open reports in the moderation queue"
