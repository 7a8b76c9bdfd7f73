"""Events: staff manage them, list eligible members, invite; members answer from the app;
staff mark attendance. Capacity holds, states move only along the table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.background import TASKS
from crowd.extensions import db
from members.models import Member, SkillCategory
from mentoring.models import (
    Event,
    EventInvitation,
    MentorProfile,
    TopPerformerBadge,
    TopPerformerRun,
)
from tests.factories import Actor
from tests.jobs.conftest import active_member, drain_background, notifications_for

API = "/api/v1"
_periods = itertools.count(1)


def _now() -> datetime:
    return datetime.now(UTC)


def give_badge(member_id: int, *, days_valid: int = 90, revoked: bool = False) -> None:
    """A top-performer badge (from a run of its own) valid `days_valid` from now."""
    now = _now()
    run = TopPerformerRun(
        period=f"T-{next(_periods)}-{member_id}",
        period_start=now - timedelta(days=90),
        period_end=now,
        window_start=now - timedelta(days=365),
        window_end=now,
        criteria={},
        status="done",
    )
    db.session.add(run)
    db.session.flush()
    category_id = db.session.scalar(select(SkillCategory.id).limit(1))
    db.session.add(
        TopPerformerBadge(
            run_id=run.id,
            member_id=member_id,
            category_id=category_id,
            region="DE",
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=days_valid),
            revoked_at=now if revoked else None,
        )
    )


def programme_member(
    *,
    mentor: bool = False,
    top: bool = False,
    opted_in: bool = True,
    status: str = "active",
    country: str = "DE",
    **kw,
) -> Actor:
    """An active member (see active_member) in the mentor and/or top-performer programme."""
    actor = active_member(**kw)
    member = db.session.get(Member, actor.profile_id)
    member.status, member.country = status, country
    if mentor:
        db.session.add(MentorProfile(member_id=member.id, opted_in=opted_in, countries=[country]))
    if top:
        give_badge(member.id)
    db.session.commit()
    return actor


def event_body(**overrides) -> dict:
    start = (_now() + timedelta(days=14)).replace(microsecond=0)
    body = {
        "kind": "meetup",
        "title": "Crowd meetup Berlin",
        "description": "Meet the team, share tips.",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "venue": "Factory Görlitzer Park",
        "city": "Berlin",
        "country": "DE",
        "lat": 52.497,
        "lon": 13.437,
        "capacity": 2,
    }
    body.update(overrides)
    return body


def create_event(client, cm: Actor, *, publish: bool = True, **overrides) -> dict:
    response = client.post(f"{API}/events", json=event_body(**overrides), headers=cm.headers)
    assert response.status_code == 201, response.json
    if publish:
        response = client.post(f"{API}/events/{response.json['id']}/publish", headers=cm.headers)
        assert response.status_code == 200, response.json
    return response.json


def invite(client, cm: Actor, event_id: int, *members: Actor):
    ids = [m.profile_id for m in members]
    return client.post(
        f"{API}/events/{event_id}/invitations", json={"member_ids": ids}, headers=cm.headers
    )


def invitation_id(event_id: int, member: Actor) -> int:
    return db.session.scalar(
        select(EventInvitation.id).where(
            EventInvitation.event_id == event_id, EventInvitation.member_id == member.profile_id
        )
    )


def rsvp(client, member: Actor, inv_id: int, answer: str):
    return client.post(
        f"{API}/me/invitations/{inv_id}/rsvp", json={"answer": answer}, headers=member.headers
    )


def start_event(event_id: int, *, hours_ago: float = 1) -> None:
    """Move the event into the past (it started `hours_ago`)."""
    event = db.session.get(Event, event_id)
    event.starts_at = _now() - timedelta(hours=hours_ago)
    event.ends_at = event.starts_at + timedelta(hours=3)
    db.session.commit()


# --- managing events ------------------------------------------------------------------------


def test_created_event_is_a_draft_with_zero_counts(client, cm):
    event = create_event(client, cm, publish=False)
    assert event["status"] == "draft"
    assert event["counts"] == dict.fromkeys(
        ("eligible", "invited", "accepted", "declined", "attended", "no_show"), 0
    )
    listed = client.get(f"{API}/events?status=draft", headers=cm.headers).json
    assert [e["id"] for e in listed["items"]] == [event["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"starts_at": "2020-01-01T10:00:00+00:00", "ends_at": "2020-01-01T12:00:00+00:00"},
            "starts_at",
        ),
        ({"ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "ends_at"),
        ({"kind": "party"}, "kind"),
        ({"capacity": 0}, "capacity"),
        ({"country": "FR"}, "country"),
        ({"starts_at": "2030-01-01T10:00:00"}, "starts_at"),
    ],
)
def test_invalid_event_is_422_naming_the_field(client, cm, overrides, field):
    response = client.post(f"{API}/events", json=event_body(**overrides), headers=cm.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_missing_required_field_is_422(client, cm):
    body = event_body()
    del body["venue"]
    response = client.post(f"{API}/events", json=body, headers=cm.headers)
    assert response.status_code == 422
    assert "venue" in response.json["errors"]["json"]


def test_only_staff_manage_events(client, member, customer):
    assert client.post(f"{API}/events", json=event_body()).status_code == 401
    for actor in (member, customer):
        assert (
            client.post(f"{API}/events", json=event_body(), headers=actor.headers).status_code
            == 403
        )
        assert client.get(f"{API}/events", headers=actor.headers).status_code == 403


def test_unknown_event_is_404(client, cm):
    assert client.get(f"{API}/events/999999", headers=cm.headers).status_code == 404
    assert client.post(f"{API}/events/999999/publish", headers=cm.headers).status_code == 404
    assert (
        client.patch(f"{API}/events/999999", json={"title": "x"}, headers=cm.headers).status_code
        == 404
    )


def test_edit_a_published_event_but_not_a_cancelled_one(client, cm):
    event = create_event(client, cm)
    url = f"{API}/events/{event['id']}"
    response = client.patch(
        url, json={"title": "Meetup (new venue)", "capacity": 5}, headers=cm.headers
    )
    assert response.status_code == 200
    assert (response.json["title"], response.json["capacity"]) == ("Meetup (new venue)", 5)
    assert client.post(f"{url}/cancel", headers=cm.headers).json["status"] == "cancelled"
    response = client.patch(url, json={"title": "Too late"}, headers=cm.headers)
    assert response.status_code == 409
    assert response.json["state"] == "cancelled"
    assert client.post(f"{url}/publish", headers=cm.headers).json["state"] == "cancelled"
    assert client.patch(url, json={}, headers=cm.headers).status_code == 422


def test_publishing_twice_is_409_with_state(client, cm):
    event = create_event(client, cm)
    response = client.post(f"{API}/events/{event['id']}/publish", headers=cm.headers)
    assert response.status_code == 409
    assert response.json["state"] == "published"


def test_patch_ends_before_start_is_422(client, cm):
    event = create_event(client, cm)
    early = (datetime.fromisoformat(event["starts_at"]) - timedelta(hours=1)).isoformat()
    response = client.patch(
        f"{API}/events/{event['id']}", json={"ends_at": early}, headers=cm.headers
    )
    assert response.status_code == 422
    assert "ends_at" in response.json["errors"]["json"]


# --- eligibility and invitations ------------------------------------------------------------


def test_eligible_lists_active_top_performers_and_opted_in_mentors_once(client, cm):
    top = programme_member(top=True)
    mentor = programme_member(mentor=True)
    both = programme_member(mentor=True, top=True)
    austrian = programme_member(top=True, country="AT")
    expired = programme_member()
    give_badge(expired.profile_id, days_valid=-1)
    revoked = programme_member()
    give_badge(revoked.profile_id, revoked=True)
    opted_out = programme_member(mentor=True, opted_in=False)
    suspended = programme_member(mentor=True, status="suspended")
    programme_member()  # no programme at all
    db.session.commit()
    event = create_event(client, cm, publish=False)
    url = f"{API}/events/{event['id']}/eligible"

    response = client.post(url, json={"countries": ["DE"]}, headers=cm.headers)
    assert response.status_code == 200
    assert response.json["added"] == 3
    response = client.post(url, json={}, headers=cm.headers)
    assert response.json["added"] == 1  # the Austrian; the others are listed already
    assert response.json["counts"]["eligible"] == 4

    listed = client.get(
        f"{API}/events/{event['id']}/invitations?status=eligible", headers=cm.headers
    )
    why = {i["member_id"]: i["qualifies_as"] for i in listed.json["items"]}
    assert why == {
        top.profile_id: "top_performer",
        mentor.profile_id: "mentor",
        both.profile_id: "mentor,top_performer",
        austrian.profile_id: "top_performer",
    }
    for excluded in (expired, revoked, opted_out, suspended):
        assert excluded.profile_id not in why
    assert client.post(url, json={}, headers=cm.headers).json["added"] == 0


def test_inviting_someone_not_eligible_is_422_naming_them_and_changes_nothing(client, cm):
    top = programme_member(top=True)
    plain = programme_member()
    event = create_event(client, cm)
    response = invite(client, cm, event["id"], top, plain)
    assert response.status_code == 422
    assert response.json["member_ids"] == [plain.profile_id]
    assert "member_ids" in response.json["errors"]["json"]
    assert invitation_id(event["id"], top) is None


def test_invite_moves_eligible_to_invited_notifies_and_leaves_the_invited_alone(app, client, cm):
    top, mentor = programme_member(top=True), programme_member(mentor=True)
    event = create_event(client, cm)
    client.post(f"{API}/events/{event['id']}/eligible", json={}, headers=cm.headers)
    response = invite(client, cm, event["id"], top)
    assert response.status_code == 200
    assert response.json == {"invited": [top.profile_id], "unchanged": []}
    # Not listed beforehand but eligible now: listed and invited at once.
    response = invite(client, cm, event["id"], top, mentor)
    assert response.json == {"invited": [mentor.profile_id], "unchanged": [top.profile_id]}
    drain_background(app)
    for actor in (top, mentor):
        [note] = notifications_for(actor.user_id, "event.invitation")
        assert note.data["invitation_id"] == invitation_id(event["id"], actor)
        assert "rsvp" in note.data
    counts = client.get(f"{API}/events/{event['id']}", headers=cm.headers).json["counts"]
    assert counts["invited"] == 2 and counts["eligible"] == 0


def test_inviting_to_a_draft_event_is_409(client, cm):
    top = programme_member(top=True)
    event = create_event(client, cm, publish=False)
    response = invite(client, cm, event["id"], top)
    assert response.status_code == 409
    assert response.json["state"] == "draft"


# --- RSVP -------------------------------------------------------------------------------------


def test_rsvp_through_capacity_to_attendance(app, client, cm):
    a, b, c = (programme_member(top=True) for _ in range(3))
    event = create_event(client, cm, capacity=2)
    eid = event["id"]
    assert invite(client, cm, eid, a, b, c).status_code == 200

    mine = client.get(f"{API}/me/invitations", headers=a.headers).json["items"]
    assert [(i["event"]["id"], i["status"], i["actions"]) for i in mine] == [
        (eid, "invited", ["accept", "decline"])
    ]
    ia, ib, ic = (invitation_id(eid, m) for m in (a, b, c))
    assert rsvp(client, a, ia, "accept").json["status"] == "accepted"
    assert rsvp(client, a, ia, "accept").json["status"] == "accepted"  # same answer: no change
    assert rsvp(client, b, ib, "accept").status_code == 200
    full = rsvp(client, c, ic, "accept")
    assert full.status_code == 409
    assert (full.json["state"], full.json["type"]) == (
        "full",
        "https://crowd.example/problems/event-full",
    )
    # A seat frees up when someone changes their mind.
    assert rsvp(client, b, ib, "decline").json["status"] == "declined"
    assert rsvp(client, c, ic, "accept").json["status"] == "accepted"
    assert rsvp(client, b, ib, "accept").json["state"] == "full"

    # Attendance only once the event started.
    url = f"{API}/events/{eid}/attendance"
    early = client.post(url, json={"attended": [a.profile_id]}, headers=cm.headers)
    assert early.status_code == 409
    assert early.json["state"] == "not_started"
    assert early.json["type"] == "https://crowd.example/problems/event-not-started"
    start_event(eid)
    assert rsvp(client, b, ib, "accept").json["state"] == "started"
    refused = client.post(url, json={"attended": [a.profile_id, b.profile_id]}, headers=cm.headers)
    assert refused.status_code == 409
    assert refused.json["member_ids"] == [b.profile_id]
    assert refused.json["type"] == "https://crowd.example/problems/invitation-not-accepted"
    response = client.post(
        url, json={"attended": [a.profile_id], "no_show": [c.profile_id]}, headers=cm.headers
    )
    assert response.status_code == 200
    assert response.json["changed"] == 2
    counts = response.json["counts"]
    assert (counts["attended"], counts["no_show"], counts["declined"]) == (1, 1, 1)
    # Marking again is harmless; a correction is allowed.
    again = client.post(url, json={"attended": [a.profile_id]}, headers=cm.headers)
    assert again.json["changed"] == 0
    fixed = client.post(url, json={"attended": [c.profile_id]}, headers=cm.headers)
    assert fixed.json["counts"]["attended"] == 2


def test_attendance_lists_must_not_overlap(client, cm):
    event = create_event(client, cm)
    response = client.post(
        f"{API}/events/{event['id']}/attendance",
        json={"attended": [1], "no_show": [1]},
        headers=cm.headers,
    )
    assert response.status_code == 422


def test_members_reach_only_their_own_invitations(client, cm):
    a, b = programme_member(top=True), programme_member(top=True)
    event = create_event(client, cm)
    client.post(f"{API}/events/{event['id']}/eligible", json={}, headers=cm.headers)
    invite(client, cm, event["id"], a)
    ia, ib = invitation_id(event["id"], a), invitation_id(event["id"], b)
    assert rsvp(client, b, ia, "accept").status_code == 404
    # Listed as eligible but not invited: the member does not see it yet.
    assert rsvp(client, b, ib, "accept").status_code == 404
    assert client.get(f"{API}/me/invitations", headers=b.headers).json["items"] == []
    assert rsvp(client, a, 999999, "accept").status_code == 404
    assert rsvp(client, a, ia, "maybe").status_code == 422
    assert client.get(f"{API}/me/invitations", headers=cm.headers).status_code == 403


def test_cancelling_tells_the_invited_and_closes_answers(app, client, cm):
    a, b, c = (programme_member(mentor=True) for _ in range(3))
    event = create_event(client, cm)
    invite(client, cm, event["id"], a, b, c)
    rsvp(client, a, invitation_id(event["id"], a), "accept")
    rsvp(client, b, invitation_id(event["id"], b), "decline")
    assert client.post(f"{API}/events/{event['id']}/cancel", headers=cm.headers).status_code == 200
    drain_background(app)
    assert len(notifications_for(a.user_id, "event.cancelled")) == 1
    assert notifications_for(b.user_id, "event.cancelled") == []
    assert len(notifications_for(c.user_id, "event.cancelled")) == 1
    response = rsvp(client, c, invitation_id(event["id"], c), "accept")
    assert response.status_code == 409
    assert response.json["state"] == "cancelled"
    mine = client.get(f"{API}/me/invitations", headers=a.headers).json["items"]
    assert mine[0]["event"]["status"] == "cancelled" and mine[0]["actions"] == []


def test_ended_events_are_closed_and_attendance_stays_open(client, cm):
    a = programme_member(top=True)
    event = create_event(client, cm)
    invite(client, cm, event["id"], a)
    rsvp(client, a, invitation_id(event["id"], a), "accept")
    start_event(event["id"], hours_ago=5)
    assert TASKS["mentoring.finish_events"].func() == 1
    db.session.commit()
    assert client.get(f"{API}/events/{event['id']}", headers=cm.headers).json["status"] == "done"
    response = client.post(
        f"{API}/events/{event['id']}/attendance",
        json={"attended": [a.profile_id]},
        headers=cm.headers,
    )
    assert response.json["counts"]["attended"] == 1
    assert (
        client.patch(f"{API}/events/{event['id']}", json={"title": "x"}, headers=cm.headers).json[
            "state"
        ]
        == "done"
    )


def test_capacity_cannot_drop_below_accepted(client, cm):
    a, b = programme_member(top=True), programme_member(top=True)
    event = create_event(client, cm)
    invite(client, cm, event["id"], a, b)
    for m in (a, b):
        rsvp(client, m, invitation_id(event["id"], m), "accept")
    response = client.patch(f"{API}/events/{event['id']}", json={"capacity": 1}, headers=cm.headers)
    assert response.status_code == 422
    assert "capacity" in response.json["errors"]["json"]


def test_creating_with_the_same_idempotency_key_replays_the_event(client, cm):
    headers = {**cm.headers, "Idempotency-Key": "meetup-2030"}
    first = client.post(f"{API}/events", json=event_body(), headers=headers)
    second = client.post(f"{API}/events", json=event_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json["id"] == second.json["id"]
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1
