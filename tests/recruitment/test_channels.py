"""Recruitment channels: staff create, list and change events, partners and campaigns."""

from datetime import timedelta

from crowd.core.db import utcnow
from crowd.extensions import db
from mentoring.models import Event
from tests.recruitment.conftest import API, ok, problem

URL = f"{API}/recruitment-channels"
PARTNER = {
    "kind": "partner",
    "code": "oszet-berlin",
    "name": "OSZ Elektrotechnik Berlin",
    "partner_type": "trade_school",
    "city": "Berlin",
    "country": "DE",
}


def an_event(cm) -> int:
    start = utcnow() + timedelta(days=30)
    event = Event(
        kind="trade_fair",
        title="IFA",
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        venue="Messe",
        city="Berlin",
        country="DE",
        capacity=50,
        created_by_id=cm.user_id,
    )
    db.session.add(event)
    db.session.commit()
    return event.id


def test_a_partner_is_created_with_its_code_in_upper_case(client, cm):
    body = ok(client.post(URL, json=PARTNER, headers=cm.headers), 201)
    assert (body["code"], body["kind"], body["partner_type"]) == (
        "OSZET-BERLIN",
        "partner",
        "trade_school",
    )
    assert body["active"] is True and body["created_by_id"] == cm.user_id
    assert ok(client.get(f"{URL}/{body['id']}", headers=cm.headers)) == body


def test_a_creation_replays_with_its_idempotency_key(client, cm):
    headers = {**cm.headers, "Idempotency-Key": "channel-1"}
    first = ok(client.post(URL, json=PARTNER, headers=headers), 201)
    again = client.post(URL, json=PARTNER, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]


def test_a_code_is_unique_in_any_case(client, cm):
    ok(client.post(URL, json=PARTNER, headers=cm.headers), 201)
    clash = {**PARTNER, "code": "OSZET-Berlin", "name": "Another"}
    body = problem(client.post(URL, json=clash, headers=cm.headers), 409)
    assert body["errors"]["json"]["code"] == ["taken"]


def test_kind_specific_fields_are_checked(client, cm):
    no_type = {**PARTNER, "partner_type": None}
    problem(client.post(URL, json=no_type, headers=cm.headers), 422, "partner_type")
    campaign = {"kind": "campaign", "code": "SPRING", "name": "Spring"}
    problem(
        client.post(URL, json={**campaign, "partner_type": "other"}, headers=cm.headers),
        422,
        "partner_type",
    )
    problem(client.post(URL, json={**campaign, "event_id": 1}, headers=cm.headers), 422, "event_id")
    event = {"kind": "event", "code": "IFA26", "name": "IFA 2026", "event_id": 999999}
    problem(client.post(URL, json=event, headers=cm.headers), 422, "event_id")
    body = ok(client.post(URL, json={**event, "event_id": an_event(cm)}, headers=cm.headers), 201)
    assert body["kind"] == "event" and body["event_id"]


def test_malformed_bodies_are_422_naming_the_field(client, cm):
    problem(client.post(URL, json={**PARTNER, "code": "a b"}, headers=cm.headers), 422, "code")
    problem(client.post(URL, json={**PARTNER, "kind": "flyer"}, headers=cm.headers), 422, "kind")
    problem(client.post(URL, json={**PARTNER, "name": "x" * 201}, headers=cm.headers), 422, "name")
    problem(client.post(URL, json={**PARTNER, "extra": 1}, headers=cm.headers), 422, "extra")


def test_a_channel_is_changed_but_not_its_kind_or_code(client, cm):
    channel = ok(client.post(URL, json=PARTNER, headers=cm.headers), 201)
    url = f"{URL}/{channel['id']}"
    body = ok(client.patch(url, json={"name": "OSZ Mitte", "active": False}, headers=cm.headers))
    assert (body["name"], body["active"], body["code"]) == ("OSZ Mitte", False, "OSZET-BERLIN")
    problem(client.patch(url, json={"code": "NEW"}, headers=cm.headers), 422, "code")
    problem(client.patch(url, json={"partner_type": None}, headers=cm.headers), 422, "partner_type")
    problem(client.patch(f"{URL}/999999", json={"name": "x"}, headers=cm.headers), 404)


def test_channels_are_listed_by_kind_and_activity(client, cm):
    partner = ok(client.post(URL, json=PARTNER, headers=cm.headers), 201)
    campaign = {"kind": "campaign", "code": "FLYER1", "name": "Flyer", "active": False}
    flyer = ok(client.post(URL, json=campaign, headers=cm.headers), 201)
    everything = ok(client.get(URL, headers=cm.headers))["items"]
    assert [c["id"] for c in everything] == [partner["id"], flyer["id"]]
    campaigns = ok(client.get(f"{URL}?kind=campaign", headers=cm.headers))["items"]
    assert [c["id"] for c in campaigns] == [flyer["id"]]
    active = ok(client.get(f"{URL}?active=true", headers=cm.headers))["items"]
    assert [c["id"] for c in active] == [partner["id"]]


def test_channels_are_for_staff(client, member, customer):
    for actor in (member, customer):
        assert client.get(URL, headers=actor.headers).status_code == 403
        assert client.post(URL, json=PARTNER, headers=actor.headers).status_code == 403
