"""Issue 20: a broadcast can be scheduled — it waits, may be unscheduled, and starts once at
its time (its timed task, or the periodic sweep)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from mentoring.broadcasts.service import start_due
from mentoring.models import Broadcast
from tests.jobs.conftest import drain_background
from tests.mentoring.test_broadcasts import API, compose, crowd_member, recipients


def _scheduled(client, cm, send_at):
    created = compose(client, cm, {"levels": [1]}, "announcement").json
    response = client.post(
        f"{API}/broadcasts/{created['id']}/send",
        json={"send_at": send_at.isoformat()},
        headers=cm.headers,
    )
    return created["id"], response


def _status(broadcast_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Broadcast, broadcast_id).status


def test_a_scheduled_broadcast_waits_and_starts_once_at_its_time(app, client, cm):
    member = crowd_member()
    send_at = utcnow() + timedelta(hours=2)
    broadcast_id, response = _scheduled(client, cm, send_at)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "scheduled"
    assert response.json["scheduled_for"].startswith(send_at.isoformat()[:19])
    drain_background(app)
    assert _status(broadcast_id) == "scheduled" and recipients(broadcast_id) == set()

    assert start_due(now=send_at - timedelta(seconds=1)) == 0
    assert start_due(now=send_at) == 1
    assert start_due(now=send_at + timedelta(minutes=1)) == 0  # once
    commit()
    drain_background(app)
    assert _status(broadcast_id) == "sent"
    assert recipients(broadcast_id) == {member.profile_id}
    again = client.post(f"{API}/broadcasts/{broadcast_id}/send", headers=cm.headers)
    assert again.status_code == 409


def test_an_unscheduled_broadcast_does_not_go_out_and_can_be_sent_now(app, client, cm):
    member = crowd_member()
    send_at = utcnow() + timedelta(hours=1)
    broadcast_id, _ = _scheduled(client, cm, send_at)
    undone = client.post(f"{API}/broadcasts/{broadcast_id}/unschedule", headers=cm.headers)
    assert undone.status_code == 200
    assert (undone.json["status"], undone.json["scheduled_for"]) == ("draft", None)
    assert start_due(now=send_at + timedelta(hours=1)) == 0
    assert (
        client.post(f"{API}/broadcasts/{broadcast_id}/unschedule", headers=cm.headers).status_code
        == 409
    )

    now = client.post(f"{API}/broadcasts/{broadcast_id}/send", headers=cm.headers)
    assert now.status_code == 200
    drain_background(app)
    assert _status(broadcast_id) == "sent" and recipients(broadcast_id) == {member.profile_id}


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(days=91)])
def test_a_send_time_in_the_past_or_too_far_ahead_is_refused(client, cm, offset):
    broadcast_id, response = _scheduled(client, cm, utcnow() + offset)
    assert response.status_code == 422
    assert "send_at" in response.json["errors"]["json"]
    assert _status(broadcast_id) == "draft"


def test_members_cannot_schedule(client, member, cm):
    created = compose(client, cm, {"levels": [1]}, "announcement").json
    response = client.post(
        f"{API}/broadcasts/{created['id']}/send",
        json={"send_at": (utcnow() + timedelta(hours=1)).isoformat()},
        headers=member.headers,
    )
    assert response.status_code == 403
