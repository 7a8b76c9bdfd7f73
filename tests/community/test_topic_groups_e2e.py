"""End to end through the API: a skill group is created, joined, written in and moderated."""

from datetime import UTC, datetime, timedelta

from tests.community.conftest import (
    API,
    create_group,
    inbox,
    join,
    mentor,
    ok,
    post_reply,
    post_thread,
    problem,
    thread,
)
from tests.jobs.conftest import active_member


def test_a_topic_group_post_is_moderated(app, client, cm):
    group = create_group(client, cm, name="TV wall mounting", requires_verified_skill=True)
    author, reader = active_member(), active_member()
    ok(client.post(f"{API}/topic-groups/{group['id']}/join", headers=author.headers))
    joined = ok(client.post(f"{API}/topic-groups/{group['id']}/join", headers=reader.headers))
    assert joined["joined"] is True and joined["member_count"] == 2

    opening = thread(client, author, group["id"], title="Anchors for aerated concrete?")
    answer = ok(post_reply(client, reader, opening["id"], "Buy my anchors at example.com!"), 201)
    report = ok(
        client.post(
            f"{API}/topic-posts/{answer['id']}/reports",
            json={"reason": "spam", "note": "Advertising"},
            headers=author.headers,
        ),
        201,
    )
    assert report["status"] == "open"

    # A mentor who belongs to the group hides the reply; its author is told why.
    coach = mentor(client)
    join(client, coach, group["id"])
    hidden = ok(
        client.post(
            f"{API}/topic-posts/{answer['id']}/hide",
            json={"reason": "Advertising is not allowed."},
            headers=coach.headers,
        )
    )
    assert hidden["hidden"] is True and hidden["body"] == "Buy my anchors at example.com!"
    told = inbox(app, reader, "community.post_hidden")
    assert len(told) == 1 and "Advertising is not allowed." in told[0].body

    # Members see the hidden reply as a placeholder in its place; the mentor sees it flagged.
    seen = ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=author.headers))
    assert seen["thread"]["reply_count"] == 1
    [placeholder] = seen["replies"]["items"]
    assert placeholder["hidden"] is True and placeholder["body"] is None
    assert placeholder["author"] is None
    moderated = ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=coach.headers))
    assert moderated["replies"]["items"][0]["hidden_reason"] == "Advertising is not allowed."

    # The community manager locks the thread: further replies are refused.
    locked = ok(client.post(f"{API}/topic-threads/{opening['id']}/lock", headers=cm.headers))
    assert locked["locked"] is True
    assert problem(post_reply(client, reader, opening["id"]), 409)["state"] == "locked"
    log = ok(client.get(f"{API}/topic-groups/{group['id']}/moderation-log", headers=cm.headers))
    assert [e["action"] for e in log["items"]] == ["lock", "hide"]

    # A muted member cannot post; the refusal names the mute's end.
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    ok(
        client.post(
            f"{API}/members/{reader.profile_id}/community-mutes",
            json={"reason": "Repeated advertising", "until": until.isoformat()},
            headers=cm.headers,
        ),
        201,
    )
    refused = problem(post_thread(client, reader, group["id"]), 403)
    assert refused["reason"] == "muted"
    assert f"until {until:%Y-%m-%d %H:%M} UTC" in refused["detail"]

    # A suspended member cannot post either: the suspension signed them out everywhere.
    ok(
        client.post(
            f"{API}/members/{author.profile_id}/status",
            json={"action": "suspend", "reason": "Unpaid fees"},
            headers=cm.headers,
        )
    )
    assert post_thread(client, author, group["id"]).status_code == 401

    # A member without the verified skill can neither join nor see the group.
    outsider = active_member(verified=False)
    assert join(client, outsider, group["id"], 403)["reason"] == "skill"
    problem(client.get(f"{API}/topic-groups/{group['id']}", headers=outsider.headers), 404)
    listed = ok(client.get(f"{API}/topic-groups", headers=outsider.headers))
    assert group["id"] not in [g["id"] for g in listed["items"]]
