"""Helpers of the console's Programmes tests (broadcasts, articles, moderation): data made
through the API, as a CM and members would make it."""

from __future__ import annotations

from crowd.extensions import db
from members.models import Member
from tests.community.conftest import create_group, joined_member, thread
from tests.factories import Actor
from tests.jobs.conftest import active_member, drain_background

API = "/api/v1"


def member_in(city: str, **kw) -> Actor:
    """An active member (Berlin's profile) living in `city` (a segment of their own)."""
    actor = active_member(**kw)
    member = db.session.get(Member, actor.profile_id)
    member.city = city
    db.session.commit()
    return actor


def sent_broadcast(app, client, cm: Actor, city: str, title: str = "Spring news") -> int:
    """A broadcast to the members of `city`, sent and delivered; its id."""
    created = client.post(
        f"{API}/broadcasts",
        json={
            "kind": "announcement",
            "title": title,
            "body": "New skills to learn.",
            "segment": {"cities": [city]},
        },
        headers=cm.headers,
    )
    assert created.status_code == 201, created.get_json()
    sent = client.post(f"{API}/broadcasts/{created.get_json()['id']}/send", headers=cm.headers)
    assert sent.status_code == 200, sent.get_json()
    drain_background(app)
    return created.get_json()["id"]


def reported_post(client, cm: Actor, *, reason: str = "spam") -> dict:
    """A thread in a new group, reported by another member of it: ids and the author."""
    group = create_group(client, cm)
    author = joined_member(client, group["id"])
    reader = joined_member(client, group["id"])
    opening = thread(client, author, group["id"], title="Cheap brackets here", body="Buy now!")
    report = client.post(
        f"{API}/topic-posts/{opening['id']}/reports",
        json={"reason": reason},
        headers=reader.headers,
    )
    assert report.status_code == 201, report.get_json()
    return {"report_id": report.get_json()["id"], "post_id": opening["id"], "author": author}
