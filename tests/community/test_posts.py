"""Threads and replies: who reads and writes, ordering, counts, edits, limits, notices."""

from datetime import timedelta

import pytest

from community.models import TopicPost
from crowd.extensions import db
from tests.community.conftest import (
    API,
    create_group,
    inbox,
    join,
    joined_member,
    ok,
    post_reply,
    post_thread,
    problem,
    thread,
)
from tests.jobs.conftest import active_member


@pytest.fixture
def group(client, cm):
    return create_group(client, cm)


def _age(post_id: int, minutes: float) -> None:
    """Make a post look `minutes` older (created and last active then)."""
    post = db.session.get(TopicPost, post_id)
    post.created_at -= timedelta(minutes=minutes)
    post.last_activity_at -= timedelta(minutes=minutes)
    db.session.commit()


def test_only_group_members_and_staff_read_and_write(client, cm, group):
    insider = joined_member(client, group["id"])
    qualified = active_member()
    opening = thread(client, insider, group["id"])
    url = f"{API}/topic-groups/{group['id']}/threads"
    problem(client.get(url, headers=qualified.headers), 403)
    problem(client.get(f"{API}/topic-threads/{opening['id']}", headers=qualified.headers), 403)
    problem(post_thread(client, qualified, group["id"]), 403)
    problem(post_reply(client, qualified, opening["id"]), 403)
    outsider = active_member(skills=("pc_setup_new",))
    problem(client.get(url, headers=outsider.headers), 404)
    problem(client.get(f"{API}/topic-threads/{opening['id']}", headers=outsider.headers), 404)
    # Staff read every group and may write without joining.
    assert ok(client.get(url, headers=cm.headers))["page"]["total"] == 1
    staff_thread = thread(client, cm, group["id"], title="House rules for this group")
    assert staff_thread["author"]["staff"] is True


def test_threads_list_pinned_first_then_by_last_activity(client, cm, group):
    someone = joined_member(client, group["id"])
    first, second, third = (thread(client, someone, group["id"], title=t) for t in "ABC")
    for post, minutes in ((first, 30), (second, 20), (third, 10)):
        _age(post["id"], minutes)
    ok(post_reply(client, someone, first["id"]), 201)  # first is the most recently active now
    ok(client.post(f"{API}/topic-threads/{third['id']}/pin", headers=cm.headers))
    url = f"{API}/topic-groups/{group['id']}/threads"
    page = ok(client.get(f"{url}?limit=2", headers=someone.headers))
    assert [t["id"] for t in page["items"]] == [third["id"], first["id"]]
    rest = ok(
        client.get(f"{url}?limit=2&cursor={page['page']['next_cursor']}", headers=someone.headers)
    )
    assert [t["id"] for t in rest["items"]] == [second["id"]]
    assert rest["page"]["next_cursor"] is None


def test_replies_keep_reply_count_and_last_activity_exact(client, group):
    author = joined_member(client, group["id"])
    other = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    _age(opening["id"], 5)
    replies = [ok(post_reply(client, other, opening["id"], f"Reply {i}"), 201) for i in range(3)]
    seen = ok(client.get(f"{API}/topic-threads/{opening['id']}?limit=2", headers=author.headers))
    assert seen["thread"]["reply_count"] == 3
    assert seen["thread"]["last_activity_at"] == replies[-1]["created_at"]
    assert [r["body"] for r in seen["replies"]["items"]] == ["Reply 0", "Reply 1"]
    assert seen["replies"]["page"]["total"] == 3


def test_the_thread_author_hears_of_replies_once_per_window(app, client, group):
    author = joined_member(client, group["id"])
    other = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    for _ in range(3):
        ok(post_reply(client, other, opening["id"]), 201)
    ok(post_reply(client, author, opening["id"]), 201)  # one's own reply tells nobody
    notices = inbox(app, author, "community.reply")
    assert len(notices) == 1 and notices[0].data["thread_id"] == opening["id"]
    assert inbox(app, other, "community.reply") == []


def test_paused_members_cannot_post(client, group):
    someone = joined_member(client, group["id"])
    ok(client.post(f"{API}/me/member/status", json={"action": "pause"}, headers=someone.headers))
    assert problem(post_thread(client, someone, group["id"]), 403)["reason"] == "status"
    # Reading stays open.
    ok(client.get(f"{API}/topic-groups/{group['id']}/threads", headers=someone.headers))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "x" * 201, "body": "x"}, "title"),
        ({"title": "Hi", "body": "x" * 10_001}, "body"),
        ({"title": "Hi"}, "body"),
        ({"title": "Hi", "body": "x", "pinned": True}, "pinned"),
    ],
)
def test_threads_are_validated(client, group, body, field):
    someone = joined_member(client, group["id"])
    response = client.post(
        f"{API}/topic-groups/{group['id']}/threads", json=body, headers=someone.headers
    )
    assert field in problem(response, 422)["errors"]["json"]


def test_the_author_edits_within_the_window(app, client, monkeypatch, group):
    author = joined_member(client, group["id"])
    other = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    answer = ok(post_reply(client, other, opening["id"]), 201)
    url = f"{API}/topic-posts/{opening['id']}"
    edited = ok(
        client.patch(url, json={"title": "Anchors?", "body": "Edited"}, headers=author.headers)
    )
    assert edited["title"] == "Anchors?" and edited["edited_at"] is not None
    problem(client.patch(url, json={"body": "Mine now"}, headers=other.headers), 403)
    reply_url = f"{API}/topic-posts/{answer['id']}"
    errors = problem(client.patch(reply_url, json={"title": "T"}, headers=other.headers), 422)
    assert "title" in errors["errors"]["json"]

    _age(opening["id"], 31)
    closed = problem(client.patch(url, json={"body": "Late"}, headers=author.headers), 409)
    assert closed["state"] == "edit_window_closed"
    monkeypatch.setitem(app.config, "COMMUNITY_EDIT_WINDOW_MINUTES", 60)
    ok(client.patch(url, json={"body": "Late but allowed"}, headers=author.headers))


def test_posting_is_limited_per_member_and_hour(app, client, monkeypatch, group):
    monkeypatch.setitem(app.config, "COMMUNITY_POSTS_PER_MEMBER_HOUR", 2)
    someone = joined_member(client, group["id"])
    opening = thread(client, someone, group["id"])
    ok(post_reply(client, someone, opening["id"]), 201)
    problem(post_reply(client, someone, opening["id"]), 429)
    problem(post_thread(client, someone, group["id"]), 429)
    _age(opening["id"], 61)
    ok(post_reply(client, someone, opening["id"]), 201)


def test_a_hidden_thread_is_gone_for_members_but_shown_to_moderators(client, cm, group):
    author = joined_member(client, group["id"])
    reader = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    reply_ = ok(post_reply(client, reader, opening["id"]), 201)
    ok(
        client.post(
            f"{API}/topic-posts/{opening['id']}/hide",
            json={"reason": "Off topic"},
            headers=cm.headers,
        )
    )
    url = f"{API}/topic-groups/{group['id']}/threads"
    for someone in (author, reader):
        assert ok(client.get(url, headers=someone.headers))["items"] == []
        problem(client.get(f"{API}/topic-threads/{opening['id']}", headers=someone.headers), 404)
        problem(post_reply(client, someone, opening["id"]), 404)
    problem(
        client.patch(
            f"{API}/topic-posts/{reply_['id']}", json={"body": "x"}, headers=reader.headers
        ),
        404,
    )
    [listed] = ok(client.get(url, headers=cm.headers))["items"]
    assert listed["hidden"] is True and listed["hidden_reason"] == "Off topic"


def test_a_member_who_left_can_no_longer_read(client, group):
    someone = joined_member(client, group["id"])
    opening = thread(client, someone, group["id"])
    ok(client.post(f"{API}/topic-groups/{group['id']}/leave", headers=someone.headers))
    problem(client.get(f"{API}/topic-threads/{opening['id']}", headers=someone.headers), 403)
    join(client, someone, group["id"])
    ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=someone.headers))


def test_unknown_threads_and_replies_as_threads_are_404(client, group):
    someone = joined_member(client, group["id"])
    opening = thread(client, someone, group["id"])
    answer = ok(post_reply(client, someone, opening["id"]), 201)
    problem(client.get(f"{API}/topic-threads/{answer['id']}", headers=someone.headers), 404)
    problem(post_reply(client, someone, answer["id"]), 404)
    problem(client.get(f"{API}/topic-threads/987654321", headers=someone.headers), 404)
