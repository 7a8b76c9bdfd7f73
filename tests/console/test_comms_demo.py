"""The demo data gives the console's moderation queue open reports on first sign-in (the
broadcasts and articles come with the history: tests/crowd/test_demo_history.py)."""

from sqlalchemy import func, select

import demo
from community.models import PostReport, TopicPost
from demo.comms_console import seed_reported_posts
from helpcentre.models import HelpArticle


def test_the_demo_leaves_open_reports_of_member_posts_and_articles(db_session):
    demo.seed(members=60, customers=8, seed=3, history=False, echo=lambda *_: None)
    reports = db_session.scalars(select(PostReport)).all()
    assert len(reports) >= 2
    assert {r.status for r in reports} == {"open"}
    posts = {db_session.get(TopicPost, r.post_id).group_id for r in reports}
    assert len(posts) == len(reports)  # one per group
    assert db_session.scalar(select(func.count(HelpArticle.id))) > 0
    # Again: nothing more.
    assert seed_reported_posts() == "reported posts: present already"
    assert db_session.scalar(select(func.count(PostReport.id))) == len(reports)
