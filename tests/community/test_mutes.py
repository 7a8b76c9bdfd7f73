"""Community mutes: community managers stop a member from posting, for a while or until lifted."""

from datetime import UTC, datetime, timedelta

import pytest

from community.models import CommunityMute
from crowd.extensions import db
from tests.community.conftest import (
    API,
    create_group,
    inbox,
    joined_member,
    ok,
    post_reply,
    post_thread,
    problem,
    thread,
)


@pytest.fixture
def group(client, cm):
    return create_group(client, cm)


def _mute(client, cm, member, **body):
    body = {"reason": "Insults in a thread", **body}
    return client.post(
        f"{API}/members/{member.profile_id}/community-mutes", json=body, headers=cm.headers
    )


def test_a_muted_member_reads_but_cannot_post_until_lifted(app, client, cm, group):
    someone = joined_member(client, group["id"])
    opening = thread(client, someone, group["id"])
    mute = ok(_mute(client, cm, someone), 201)
    assert mute["active"] is True and mute["until"] is None
    refused = problem(post_reply(client, someone, opening["id"]), 403)
    assert (
        refused["reason"] == "muted" and "until a community manager lifts it" in refused["detail"]
    )
    ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=someone.headers))
    assert len(inbox(app, someone, "community.muted")) == 1

    lifted = ok(client.post(f"{API}/community-mutes/{mute['id']}/lift", headers=cm.headers))
    assert lifted["active"] is False and lifted["lifted_by_id"] == cm.user_id
    ok(post_reply(client, someone, opening["id"]), 201)
    again = client.post(f"{API}/community-mutes/{mute['id']}/lift", headers=cm.headers)
    assert problem(again, 409)["state"] == "lifted"
    assert again.json["type"] == "https://crowd.example/problems/mute-lifted"


def test_a_mute_ends_by_itself(client, cm, group):
    someone = joined_member(client, group["id"])
    until = datetime.now(UTC) + timedelta(hours=1)
    mute = ok(_mute(client, cm, someone, until=until.isoformat()), 201)
    problem(post_thread(client, someone, group["id"]), 403)
    db.session.get(CommunityMute, mute["id"]).until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    ok(post_thread(client, someone, group["id"]), 201)
    ended = client.post(f"{API}/community-mutes/{mute['id']}/lift", headers=cm.headers)
    assert problem(ended, 409)["state"] == "ended"
    ok(_mute(client, cm, someone), 201)  # a new mute once the old one ended


def test_one_mute_in_force_at_a_time(client, cm, member):
    ok(_mute(client, cm, member), 201)
    assert problem(_mute(client, cm, member), 409)["state"] == "muted"


def test_mutes_are_validated(client, cm, member):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert "until" in problem(_mute(client, cm, member, until=past), 422)["errors"]["json"]
    naive = "2030-01-01T10:00:00"
    assert "until" in problem(_mute(client, cm, member, until=naive), 422)["errors"]["json"]
    assert "reason" in problem(_mute(client, cm, member, reason=""), 422)["errors"]["json"]
    response = client.post(
        f"{API}/members/987654321/community-mutes", json={"reason": "x"}, headers=cm.headers
    )
    problem(response, 404)


def test_mutes_are_listed_for_staff_only(client, cm, member, other_member):
    first = ok(_mute(client, cm, member), 201)
    ok(client.post(f"{API}/community-mutes/{first['id']}/lift", headers=cm.headers))
    second = ok(_mute(client, cm, other_member), 201)
    active = ok(client.get(f"{API}/community-mutes?active=true", headers=cm.headers))
    assert [m["id"] for m in active["items"]] == [second["id"]]
    everything = ok(client.get(f"{API}/community-mutes", headers=cm.headers))
    assert [m["id"] for m in everything["items"]] == [second["id"], first["id"]]
    mine = ok(
        client.get(f"{API}/community-mutes?member_id={member.profile_id}", headers=cm.headers)
    )
    assert [m["id"] for m in mine["items"]] == [first["id"]]
    problem(client.get(f"{API}/community-mutes", headers=member.headers), 403)
    problem(_mute(client, member, other_member), 403)
