"""Demo topic groups: seeded with the demo crowd, counts exact, idempotent."""

from sqlalchemy import func, select

import demo
from community.models import GroupMembership, TopicGroup, TopicPost
from community.qualification import failed_rules
from crowd.core.db import utcnow
from demo.community import GROUPS, seed_topic_groups


def test_demo_groups_hold_qualified_members_and_exact_counts(db_session):
    demo.seed(members=30, customers=3, seed=5, history=False, echo=lambda *_: None)
    groups = db_session.scalars(select(TopicGroup).order_by(TopicGroup.id)).all()
    assert [g.slug for g in groups] == [slug for slug, *_ in GROUPS]
    for group in groups:
        members = db_session.scalars(
            select(GroupMembership.member_id).where(GroupMembership.group_id == group.id)
        ).all()
        assert group.member_count == len(members)
        assert all(failed_rules(group.id, member_id) == [] for member_id in members)
        threads = db_session.scalars(
            select(TopicPost).where(TopicPost.group_id == group.id, TopicPost.parent_id.is_(None))
        ).all()
        assert threads
        for thread in threads:
            replies = select(func.count()).where(TopicPost.parent_id == thread.id)
            assert thread.reply_count == db_session.scalar(replies)
    assert seed_topic_groups(groups[0].created_by_id, utcnow()).startswith("topic groups: 0 new")
    assert db_session.scalar(select(func.count()).select_from(TopicGroup)) == len(GROUPS)
