"""Concurrent joins, replies, decisions and mutes: counts stay exact, one
decision and one mute win."""

import pytest
from sqlalchemy import func, select

from community.models import CommunityMute, GroupMembership, TopicGroup, TopicPost
from crowd.extensions import db
from tests.community.conftest import API, create_group, joined_member, ok, thread
from tests.concurrency import run_concurrently
from tests.jobs.conftest import active_member

pytestmark = pytest.mark.committing


def test_simultaneous_joins_keep_member_count_exact(app, client, cm):
    group = create_group(client, cm)
    members = [active_member() for _ in range(6)]

    def join(client, i):
        # Each member twice at once: the second join of a member changes nothing.
        who = members[i % 6]
        return client.post(
            f"{API}/topic-groups/{group['id']}/join", headers=who.headers
        ).status_code

    assert run_concurrently(app, 12, join) == [200] * 12
    with app.app_context():
        count = select(func.count()).where(GroupMembership.group_id == group["id"])
        assert db.session.scalar(count) == 6
        assert db.session.get(TopicGroup, group["id"]).member_count == 6


def test_simultaneous_replies_keep_reply_count_exact(app, client, cm):
    group = create_group(client, cm)
    writers = [joined_member(client, group["id"]) for _ in range(6)]
    opening = thread(client, writers[0], group["id"])

    def reply(client, i):
        url = f"{API}/topic-threads/{opening['id']}/replies"
        return client.post(url, json={"body": f"Reply {i}"}, headers=writers[i].headers).status_code

    assert run_concurrently(app, 6, reply) == [201] * 6
    with app.app_context():
        saved = db.session.get(TopicPost, opening["id"])
        last = db.session.scalar(
            select(func.max(TopicPost.created_at)).where(TopicPost.parent_id == opening["id"])
        )
        assert saved.reply_count == 6 and saved.last_activity_at == last


def test_simultaneous_decisions_on_one_post_act_once(app, client, cm):
    group = create_group(client, cm)
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    reports = []
    for _ in range(3):
        reporter = joined_member(client, group["id"])
        body = {"reason": "spam"}
        url = f"{API}/topic-posts/{opening['id']}/reports"
        reports.append(ok(client.post(url, json=body, headers=reporter.headers), 201))

    def decide(client, i):
        decision = "upheld" if i % 2 else "dismissed"
        url = f"{API}/topic-reports/{reports[i % 3]['id']}/decide"
        return client.post(url, json={"decision": decision}, headers=cm.headers).status_code

    assert sorted(run_concurrently(app, 4, decide)) == [200, 409, 409, 409]


def test_simultaneous_mutes_leave_one_in_force(app, client, cm):
    someone = active_member()

    def mute(client, i):
        url = f"{API}/members/{someone.profile_id}/community-mutes"
        return client.post(url, json={"reason": f"Reason {i}"}, headers=cm.headers).status_code

    assert sorted(run_concurrently(app, 4, mute)) == [201, 409, 409, 409]
    with app.app_context():
        count = select(func.count()).where(CommunityMute.member_id == someone.profile_id)
        assert db.session.scalar(count) == 1
