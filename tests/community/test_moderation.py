"""Moderation: who may hide, lock and pin, what is logged, what authors are told."""

import pytest
from sqlalchemy import func, select

from community.models import ModerationAction
from crowd.extensions import db
from tests.community.conftest import (
    API,
    create_group,
    inbox,
    join,
    joined_member,
    mentor,
    ok,
    post_reply,
    problem,
    skill_id,
    thread,
)


@pytest.fixture
def group(client, cm):
    return create_group(client, cm)


def _hide(client, actor, post_id, reason="Off topic"):
    return client.post(
        f"{API}/topic-posts/{post_id}/hide", json={"reason": reason}, headers=actor.headers
    )


def _actions() -> int:
    return db.session.scalar(select(func.count()).select_from(ModerationAction))


def test_plain_members_do_not_moderate(client, group):
    author = joined_member(client, group["id"])
    other = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    problem(_hide(client, other, opening["id"]), 403)
    problem(client.post(f"{API}/topic-threads/{opening['id']}/lock", headers=other.headers), 403)
    log = f"{API}/topic-groups/{group['id']}/moderation-log"
    problem(client.get(log, headers=other.headers), 403)


def test_a_mentor_moderates_only_groups_they_belong_to(client, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    coach = mentor(client)
    problem(_hide(client, coach, opening["id"]), 403)  # qualifies, has not joined
    join(client, coach, group["id"])
    ok(_hide(client, coach, opening["id"]))
    log = ok(client.get(f"{API}/topic-groups/{group['id']}/moderation-log", headers=coach.headers))
    assert [(e["action"], e["actor_user_id"]) for e in log["items"]] == [("hide", coach.user_id)]


def test_a_mentor_cannot_moderate_staff_posts(client, cm, group):
    coach = mentor(client)
    join(client, coach, group["id"])
    announcement = thread(client, cm, group["id"], title="Welcome")
    problem(_hide(client, coach, announcement["id"]), 403)
    unpin = f"{API}/topic-threads/{announcement['id']}/unpin"
    problem(client.post(unpin, headers=coach.headers), 403)
    ok(_hide(client, cm, announcement["id"]))


def test_a_mentor_cannot_see_a_group_they_do_not_qualify_for(client, cm):
    other_skill = create_group(client, cm, skill_id=skill_id("pc_setup_new"))
    author = joined_member(client, other_skill["id"], skills=("pc_setup_new",))
    opening = thread(client, author, other_skill["id"])
    coach = mentor(client)
    problem(_hide(client, coach, opening["id"]), 404)


def test_hide_and_unhide_are_logged_once_and_the_author_told(app, client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    before = _actions()
    ok(_hide(client, cm, opening["id"], "Please keep it about TV mounting."))
    again = ok(_hide(client, cm, opening["id"], "Twice"))
    assert again["hidden_reason"] == "Please keep it about TV mounting."
    assert _actions() == before + 1
    notices = inbox(app, author, "community.post_hidden")
    assert len(notices) == 1 and "Please keep it about TV mounting." in notices[0].body

    shown = ok(
        client.post(f"{API}/topic-posts/{opening['id']}/unhide", json={}, headers=cm.headers)
    )
    assert shown["hidden"] is False and shown["hidden_reason"] is None
    seen = ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=author.headers))
    assert seen["thread"]["body"] == opening["body"]
    assert _actions() == before + 2


def test_hiding_needs_a_reason(client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    response = client.post(f"{API}/topic-posts/{opening['id']}/hide", json={}, headers=cm.headers)
    assert "reason" in problem(response, 422)["errors"]["json"]


def test_lock_unlock_pin_unpin(client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    url = f"{API}/topic-threads/{opening['id']}"
    assert ok(client.post(f"{url}/pin", headers=cm.headers))["pinned"] is True
    locked = ok(client.post(f"{url}/lock", json={"reason": "Settled"}, headers=cm.headers))
    assert locked["locked"] is True and locked["pinned"] is True
    reply = post_reply(client, author, opening["id"])
    assert problem(reply, 409)["state"] == "locked"
    assert reply.json["type"] == "https://crowd.example/problems/thread-locked"
    edit = client.patch(
        f"{API}/topic-posts/{opening['id']}", json={"body": "x"}, headers=author.headers
    )
    assert problem(edit, 409)["state"] == "locked"
    ok(client.post(f"{url}/unlock", headers=cm.headers))
    ok(post_reply(client, author, opening["id"]), 201)
    assert ok(client.post(f"{url}/unpin", headers=cm.headers))["pinned"] is False
    problem(client.post(f"{url}/delete", headers=cm.headers), 404)
    log = ok(client.get(f"{API}/topic-groups/{group['id']}/moderation-log", headers=cm.headers))
    assert [e["action"] for e in log["items"]] == ["unpin", "unlock", "lock", "pin"]
    assert log["items"][2]["reason"] == "Settled"


def test_replies_are_not_threads_to_lock(client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    answer = ok(post_reply(client, author, opening["id"]), 201)
    problem(client.post(f"{API}/topic-threads/{answer['id']}/lock", headers=cm.headers), 404)


def test_an_archived_group_cannot_be_moderated(client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    ok(client.post(f"{API}/topic-groups/{group['id']}/archive", json={}, headers=cm.headers))
    assert problem(_hide(client, cm, opening["id"]), 409)["state"] == "archived"
