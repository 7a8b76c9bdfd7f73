"""Weekly availability slots and time off."""

from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import AvailabilitySlot, TimeOff

AVAILABILITY = "/api/v1/me/member/availability"
TIME_OFF = "/api/v1/me/member/time-off"


def _problem(response, status):
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


def _slot(weekday, start, end):
    return {"weekday": weekday, "start": start, "end": end}


def _iso(delta: timedelta) -> str:
    return (utcnow() + delta).isoformat()


def _add_time_off(client, actor, starts_in, ends_in, **extra):
    body = {"starts_at": _iso(starts_in), "ends_at": _iso(ends_in), **extra}
    return client.post(TIME_OFF, json=body, headers=actor.headers)


# --- availability ---------------------------------------------------------------------------


def test_member_sets_weekly_availability_and_reads_it_back(client, member):
    slots = [_slot(5, "10:00", "24:00"), _slot(0, "13:00", "17:30"), _slot(0, "08:00", "12:00")]
    response = client.put(AVAILABILITY, json={"slots": slots}, headers=member.headers)
    assert response.status_code == 200, response.json
    expected = [_slot(0, "08:00", "12:00"), _slot(0, "13:00", "17:30"), _slot(5, "10:00", "24:00")]
    assert response.json["slots"] == expected
    assert client.get(AVAILABILITY, headers=member.headers).json["slots"] == expected
    assert client.get("/api/v1/me/member", headers=member.headers).json["availability"] == expected


def test_availability_is_stored_as_minutes(client, member):
    client.put(AVAILABILITY, json={"slots": [_slot(2, "07:15", "24:00")]}, headers=member.headers)
    stored = db.session.scalars(
        select(AvailabilitySlot).where(AvailabilitySlot.member_id == member.profile_id)
    ).one()
    assert (stored.weekday, stored.start_minute, stored.end_minute) == (2, 435, 1440)


def test_putting_availability_replaces_the_week(client, member):
    client.put(AVAILABILITY, json={"slots": [_slot(0, "08:00", "12:00")]}, headers=member.headers)
    response = client.put(
        AVAILABILITY, json={"slots": [_slot(3, "09:00", "10:00")]}, headers=member.headers
    )
    assert response.json["slots"] == [_slot(3, "09:00", "10:00")]
    client.put(AVAILABILITY, json={"slots": []}, headers=member.headers)
    assert client.get(AVAILABILITY, headers=member.headers).json["slots"] == []


def test_overlapping_slots_on_the_same_weekday_are_422(client, member):
    client.put(AVAILABILITY, json={"slots": [_slot(1, "08:00", "09:00")]}, headers=member.headers)
    slots = [_slot(0, "08:00", "12:00"), _slot(0, "11:00", "14:00")]
    body = _problem(client.put(AVAILABILITY, json={"slots": slots}, headers=member.headers), 422)
    assert "Monday" in body["errors"]["json"]["slots"][0]
    assert client.get(AVAILABILITY, headers=member.headers).json["slots"] == [
        _slot(1, "08:00", "09:00")
    ]


def test_a_slot_inside_another_is_an_overlap(client, member):
    slots = [_slot(4, "08:00", "18:00"), _slot(4, "10:00", "11:00")]
    _problem(client.put(AVAILABILITY, json={"slots": slots}, headers=member.headers), 422)


def test_touching_slots_and_equal_times_on_other_days_are_fine(client, member):
    slots = [_slot(0, "08:00", "12:00"), _slot(0, "12:00", "14:00"), _slot(1, "08:00", "12:00")]
    response = client.put(AVAILABILITY, json={"slots": slots}, headers=member.headers)
    assert response.status_code == 200, response.json
    assert len(response.json["slots"]) == 3


@pytest.mark.parametrize("start, end", [("12:00", "12:00"), ("14:00", "09:00"), ("24:00", "24:00")])
def test_slot_end_must_be_after_start(client, member, start, end):
    body = {"slots": [_slot(0, start, end)]}
    problem = _problem(client.put(AVAILABILITY, json=body, headers=member.headers), 422)
    assert "end" in problem["errors"]["json"]["slots"]["0"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("start", "7:00"),
        ("start", "12:60"),
        ("end", "24:01"),
        ("end", "25:00"),
        ("start", 480),
        ("weekday", 7),
        ("weekday", -1),
        ("weekday", "1"),
    ],
)
def test_malformed_slot_values_are_422_naming_the_field(client, member, field, value):
    slot = {**_slot(0, "08:00", "12:00"), field: value}
    body = _problem(client.put(AVAILABILITY, json={"slots": [slot]}, headers=member.headers), 422)
    assert field in body["errors"]["json"]["slots"]["0"]


def test_availability_is_for_members_only(client, customer, cm):
    _problem(client.put(AVAILABILITY, json={"slots": []}), 401)
    _problem(client.put(AVAILABILITY, json={"slots": []}, headers=customer.headers), 403)
    _problem(client.get(AVAILABILITY, headers=cm.headers), 403)


# --- time off -------------------------------------------------------------------------------


def test_member_adds_time_off_and_sees_it_listed(client, member):
    response = _add_time_off(client, member, timedelta(days=3), timedelta(days=10), reason="Urlaub")
    assert response.status_code == 201, response.json
    created = response.json
    assert created["reason"] == "Urlaub"
    listed = client.get(TIME_OFF, headers=member.headers).json
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert listed["page"]["total"] == 1


def test_time_off_keeps_the_instant_of_offset_times(client, member):
    start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    body = {
        "starts_at": start.astimezone(timezone(timedelta(hours=2))).isoformat(),
        "ends_at": (start + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    }
    response = client.post(TIME_OFF, json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    assert db.session.get(TimeOff, response.json["id"]).starts_at == start


def test_time_off_may_have_begun_already(client, member):
    response = _add_time_off(client, member, timedelta(days=-1), timedelta(days=1))
    assert response.status_code == 201, response.json


def test_time_off_without_timezone_is_422(client, member):
    body = {"starts_at": "2030-07-01T08:00:00", "ends_at": "2030-07-02T08:00:00+02:00"}
    problem = _problem(client.post(TIME_OFF, json=body, headers=member.headers), 422)
    assert "starts_at" in problem["errors"]["json"]


def test_time_off_ending_before_it_starts_is_422(client, member):
    response = _add_time_off(client, member, timedelta(days=5), timedelta(days=4))
    assert "ends_at" in _problem(response, 422)["errors"]["json"]


def test_time_off_already_over_is_422(client, member):
    response = _add_time_off(client, member, timedelta(days=-5), timedelta(days=-4))
    assert "ends_at" in _problem(response, 422)["errors"]["json"]
    assert client.get(TIME_OFF, headers=member.headers).json["items"] == []


def test_time_off_with_an_idempotency_key_is_created_once(client, member):
    body = {"starts_at": _iso(timedelta(days=1)), "ends_at": _iso(timedelta(days=2))}
    headers = {**member.headers, "Idempotency-Key": "holiday-2030"}
    first = client.post(TIME_OFF, json=body, headers=headers)
    again = client.post(TIME_OFF, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json["id"] == first.json["id"]
    assert client.get(TIME_OFF, headers=member.headers).json["page"]["total"] == 1
    other = {**body, "reason": "changed"}
    _problem(client.post(TIME_OFF, json=other, headers=headers), 422)


def test_time_off_list_is_upcoming_only_soonest_first_and_paginated(client, member, other_member):
    now = utcnow()
    db.session.add(
        TimeOff(
            member_id=member.profile_id,
            starts_at=now - timedelta(days=9),
            ends_at=now - timedelta(days=8),
        )
    )
    db.session.commit()
    _add_time_off(client, other_member, timedelta(days=1), timedelta(days=2))
    created = [
        _add_time_off(client, member, timedelta(days=d), timedelta(days=d + 1)).json["id"]
        for d in (30, 10, 20)
    ]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(TIME_OFF, query_string=query, headers=member.headers).json
        assert len(page["items"]) <= 2 and page["page"]["total"] == 3
        seen += [item["id"] for item in page["items"]]
        cursor = page["page"]["next_cursor"]
        if cursor is None:
            break
    assert seen == [created[1], created[2], created[0]]


def test_time_off_list_rejects_a_bad_cursor(client, member):
    response = client.get(TIME_OFF, query_string={"cursor": "nonsense"}, headers=member.headers)
    assert "cursor" in _problem(response, 422)["errors"]["query"]


def test_member_deletes_own_time_off(client, member):
    created = _add_time_off(client, member, timedelta(days=1), timedelta(days=2)).json
    response = client.delete(f"{TIME_OFF}/{created['id']}", headers=member.headers)
    assert response.status_code == 204
    assert response.data == b""
    assert db.session.get(TimeOff, created["id"]) is None


def test_deleting_another_members_time_off_is_404(client, member, other_member):
    theirs = _add_time_off(client, other_member, timedelta(days=1), timedelta(days=2)).json
    _problem(client.delete(f"{TIME_OFF}/{theirs['id']}", headers=member.headers), 404)
    _problem(client.delete(f"{TIME_OFF}/999999", headers=member.headers), 404)
    assert db.session.get(TimeOff, theirs["id"]) is not None


def test_time_off_is_for_members_only(client, member, customer, cm):
    created = _add_time_off(client, member, timedelta(days=1), timedelta(days=2)).json
    _problem(client.get(TIME_OFF), 401)
    _problem(client.post(TIME_OFF, json={}, headers=customer.headers), 403)
    _problem(client.get(TIME_OFF, headers=cm.headers), 403)
    _problem(client.delete(f"{TIME_OFF}/{created['id']}", headers=cm.headers), 403)
