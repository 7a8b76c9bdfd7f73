"""Messages to segments: exactly the right members receive one inbox entry and one email,
delivery is idempotent, reads are tracked and counted, and only staff send."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member
from mentoring.broadcasts import delivery
from mentoring.models import Broadcast, BroadcastRecipient, Mentorship
from notifications.models import Consent, Notification, OutboundEmail
from tests.factories import Actor
from tests.jobs.conftest import drain_background, notifications_for
from tests.mentoring.test_events import give_badge, programme_member

API = "/api/v1"


def crowd_member(
    *,
    level: int = 1,
    skills: tuple[str, ...] = ("tv_wall_mount",),
    country: str = "DE",
    city: str = "Berlin",
    postcode: str = "10117",
    status: str = "active",
    **programmes,
) -> Actor:
    actor = programme_member(skills=skills, level_rank=level, **programmes)
    member = db.session.get(Member, actor.profile_id)
    member.status, member.country, member.city, member.postcode = status, country, city, postcode
    db.session.commit()
    return actor


def mentee_of(mentor: Actor, mentee: Actor, status: str = "active") -> None:
    db.session.add(
        Mentorship(
            mentor_id=mentor.profile_id, mentee_id=mentee.profile_id, status=status, origin="staff"
        )
    )
    db.session.commit()


def compose(client, cm: Actor, segment: dict, kind: str = "newsletter"):
    body = {
        "kind": kind,
        "title": "Spring news",
        "body": "New skills to learn.",
        "segment": segment,
    }
    return client.post(f"{API}/broadcasts", json=body, headers=cm.headers)


def send(app, client, cm: Actor, segment: dict, kind: str = "newsletter") -> dict:
    created = compose(client, cm, segment, kind)
    assert created.status_code == 201, created.json
    response = client.post(f"{API}/broadcasts/{created.json['id']}/send", headers=cm.headers)
    assert response.status_code == 200, response.json
    drain_background(app)
    return client.get(f"{API}/broadcasts/{created.json['id']}", headers=cm.headers).json


def recipients(broadcast_id: int) -> set[int]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            select(BroadcastRecipient.member_id).where(
                BroadcastRecipient.broadcast_id == broadcast_id
            )
        )
    )


SEGMENT = {
    "levels": [1, 2],
    "skills": ["tv_wall_mount", "router_config"],
    "countries": ["DE", "AT"],
    "postcode_prefixes": ["10", "80"],
    "programmes": ["mentor", "top_performer"],
}


@pytest.fixture
def varied_crowd():
    """Two members in SEGMENT, and one just outside it along each key."""
    inside = [
        crowd_member(mentor=True),
        crowd_member(
            level=2, skills=("router_config",), country="AT", city="Graz", postcode="8010", top=True
        ),
    ]
    outside = [
        crowd_member(mentor=True, status="paused"),
        crowd_member(mentor=True, level=3),
        crowd_member(mentor=True, skills=("washing_machine_repair",)),
        crowd_member(top=True, country="CH", city="Zürich", postcode="8001"),
        crowd_member(top=True, city="Hamburg", postcode="20095"),
        crowd_member(),
        crowd_member(mentor=True, opted_in=False),
    ]
    expired = crowd_member()
    give_badge(expired.profile_id, days_valid=-1)
    mentee = crowd_member()
    mentee_of(inside[0], mentee)
    db.session.commit()
    return inside, [*outside, expired, mentee], mentee


def test_a_segment_message_reaches_exactly_the_right_members(app, client, cm, varied_crowd):
    inside, outside, _ = varied_crowd
    preview = client.get(
        f"{API}/broadcasts/preview-segment",
        query_string=SEGMENT,
        headers=cm.headers,
    )
    assert preview.status_code == 200, preview.json
    assert preview.json["count"] == 2

    # A newsletter is marketing: by email only to members who consented (double opt-in).
    consenting = inside[0]
    db.session.add(Consent(user_id=consenting.user_id, topic="newsletter", granted_at=utcnow()))
    db.session.commit()
    broadcast = send(app, client, cm, SEGMENT)
    expected = {m.profile_id for m in inside}
    assert recipients(broadcast["id"]) == expected
    assert broadcast["status"] == "sent" and broadcast["sent_at"]
    assert broadcast["recipients_count"] == 2
    reach = {k: v for k, v in broadcast["counts"].items() if k != "channels"}
    assert reach == {"recipients": 2, "delivered": 2, "read": 0, "read_rate": 0.0}
    for actor in inside:
        assert len(notifications_for(actor.user_id, "broadcast.newsletter")) == 1
        emails = db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.user_id == actor.user_id)
        ).all()
        if actor is not consenting:
            assert emails == []
            continue
        [email] = emails
        assert email.to_address == actor.email
        assert email.dedupe_key == f"broadcast:{broadcast['id']}:{actor.profile_id}"
        assert email.subject == "Spring news" and email.status == "pending"
        assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for actor in outside:
        assert notifications_for(actor.user_id) == []


def test_programme_and_status_segments(app, client, cm, varied_crowd):
    inside, outside, mentee = varied_crowd
    broadcast = send(app, client, cm, {"programmes": ["mentee"]}, kind="announcement")
    assert recipients(broadcast["id"]) == {mentee.profile_id}
    assert len(notifications_for(mentee.user_id, "broadcast.announcement")) == 1
    paused = send(app, client, cm, {"statuses": ["paused"], "programmes": ["mentor"]})
    assert recipients(paused["id"]) == {outside[0].profile_id}
    by_city = send(app, client, cm, {"cities": ["graz"]})
    assert recipients(by_city["id"]) == {inside[1].profile_id}


def test_an_empty_segment_is_sent_to_nobody(app, client, cm):
    broadcast = send(app, client, cm, {"cities": ["Nowhere"]})
    assert broadcast["status"] == "sent"
    assert broadcast["counts"]["recipients"] == 0
    assert broadcast["counts"]["read_rate"] is None


def test_delivery_in_batches_runs_twice_without_duplicates(app, client, cm):
    members = [crowd_member() for _ in range(5)]
    # An announcement: emailed to every recipient (a newsletter needs their consent).
    created = compose(client, cm, {"levels": [1]}, "announcement").json
    broadcast = db.session.get(Broadcast, created["id"])
    broadcast.status = "sending"
    db.session.commit()
    # Small batches so that several run; resolving again adds nobody.
    assert delivery.resolve_recipients(broadcast.id, batch=2) == 5
    db.session.commit()
    assert delivery.resolve_recipients(broadcast.id, batch=2) == 5
    db.session.commit()
    drain_background(app)
    ids = sorted(m.profile_id for m in members)
    assert recipients(broadcast.id) == set(ids)
    # A batch run again (a redelivered message) finds everyone delivered.
    assert (
        delivery.deliver_batch(
            broadcast_id=broadcast.id, first_member_id=ids[0], last_member_id=ids[-1]
        )
        == 0
    )
    db.session.commit()
    drain_background(app)
    emails = db.session.scalar(
        select(func.count())
        .select_from(OutboundEmail)
        .where(OutboundEmail.dedupe_key.like(f"broadcast:{broadcast.id}:%"))
    )
    notes = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.dedupe_key.like(f"broadcast:{broadcast.id}:%"))
    )
    assert (emails, notes) == (5, 5)
    state = client.get(f"{API}/broadcasts/{broadcast.id}", headers=cm.headers).json
    assert state["status"] == "sent" and state["counts"]["delivered"] == 5


def test_read_tracking_and_counts(app, client, cm):
    a, b, c = (crowd_member() for _ in range(3))
    stranger = crowd_member(level=4)
    broadcast = send(app, client, cm, {"levels": [1]})
    bid = broadcast["id"]
    received = client.get(f"{API}/me/broadcasts", headers=a.headers).json["items"]
    assert [(r["id"], r["read"], r["kind"]) for r in received] == [(bid, False, "newsletter")]

    first = client.post(f"{API}/me/broadcasts/{bid}/read", headers=a.headers)
    assert first.status_code == 200 and first.json["read"] is True
    again = client.post(f"{API}/me/broadcasts/{bid}/read", headers=a.headers)
    assert again.json["read_at"] == first.json["read_at"]
    client.post(f"{API}/me/broadcasts/{bid}/read", headers=b.headers)

    counts = client.get(f"{API}/broadcasts/{bid}", headers=cm.headers).json["counts"]
    counts.pop("channels")
    assert counts == {"recipients": 3, "delivered": 3, "read": 2, "read_rate": 0.6667}
    unread = client.get(f"{API}/broadcasts/{bid}/recipients?read=false", headers=cm.headers)
    assert [r["member_id"] for r in unread.json["items"]] == [c.profile_id]
    read = client.get(f"{API}/broadcasts/{bid}/recipients?read=true", headers=cm.headers)
    assert {r["member_id"] for r in read.json["items"]} == {a.profile_id, b.profile_id}
    assert client.get(f"{API}/me/broadcasts?unread=true", headers=a.headers).json["items"] == []

    # Not a recipient: nothing to read.
    assert (
        client.post(f"{API}/me/broadcasts/{bid}/read", headers=stranger.headers).status_code == 404
    )
    assert client.get(f"{API}/me/broadcasts", headers=stranger.headers).json["items"] == []
    assert client.post(f"{API}/me/broadcasts/999999/read", headers=a.headers).status_code == 404


@pytest.mark.parametrize(
    ("segment", "key"),
    [
        ({"skills": ["tv_wall_mount", "juggling"]}, "skills"),
        ({"programmes": ["vip"]}, "programmes"),
        ({"statuses": ["retired"]}, "statuses"),
        ({"countries": ["FR"]}, "countries"),
        ({"levels": []}, "levels"),
        ({"region": ["x"]}, "region"),
    ],
)
def test_invalid_segment_is_422_naming_the_key(client, cm, segment, key):
    response = compose(client, cm, segment)
    assert response.status_code == 422
    assert key in response.json["errors"]["json"]["segment"]


def test_unknown_skill_in_preview_is_422(client, cm):
    response = client.get(f"{API}/broadcasts/preview-segment?skills=juggling", headers=cm.headers)
    assert response.status_code == 422


def test_sending_twice_is_409_and_preview_shows_the_segment(app, client, cm):
    member = crowd_member()
    created = compose(client, cm, {"levels": [1]}).json
    preview = client.post(f"{API}/broadcasts/{created['id']}/preview", headers=cm.headers).json
    assert preview["count"] == 1 and preview["members"][0]["id"] == member.profile_id
    url = f"{API}/broadcasts/{created['id']}/send"
    assert client.post(url, headers=cm.headers).status_code == 200
    drain_background(app)
    response = client.post(url, headers=cm.headers)
    assert response.status_code == 409
    assert response.json["state"] == "sent"
    listed = client.get(f"{API}/broadcasts?status=sent", headers=cm.headers).json["items"]
    assert [b["id"] for b in listed] == [created["id"]]


def test_only_staff_compose_and_follow_broadcasts(client, member, customer, cm):
    assert compose(client, member, {}).status_code == 403
    assert client.post(f"{API}/broadcasts", json={}).status_code == 401
    assert client.get(f"{API}/broadcasts", headers=customer.headers).status_code == 403
    assert client.get(f"{API}/broadcasts/999999", headers=cm.headers).status_code == 404
    assert client.post(f"{API}/broadcasts/999999/send", headers=cm.headers).status_code == 404
    assert client.get(f"{API}/me/broadcasts", headers=cm.headers).status_code == 403
