"""The mobile app registers its push token: one user's at a time, only its owner sees or
removes it, bad input is a 422 naming the field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from notifications.push.devices import MAX_ACTIVE_DEVICES
from notifications.push.models import Device
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.notifications.helpers import DEVICES, android_token, ios_token, register


def test_a_member_registers_several_devices_and_lists_them(client, member):
    iphone = register(client, member, "ios", name="Anna's iPhone", locale="de-CH")
    pixel = register(client, member, "android", app_version="2.5.0-beta.1", locale="en")
    assert iphone.status_code == 201, iphone.get_json()
    assert pixel.status_code == 201, pixel.get_json()
    device = iphone.get_json()
    assert device["platform"] == "ios" and device["name"] == "Anna's iPhone"
    assert device["locale"] == "de-CH" and device["active"] is True
    assert device["retired_at"] is None

    listed = client.get(DEVICES, headers=member.headers)
    assert listed.status_code == 200
    ids = {item["id"] for item in listed.get_json()["items"]}
    assert ids == {device["id"], pixel.get_json()["id"]}


def test_registering_a_known_token_again_updates_it(client, member):
    token = ios_token()
    first = register(client, member, "ios", token.upper(), app_version="2.4.1").get_json()
    again = register(client, member, "ios", token, app_version="2.5.0", locale="en")
    assert again.status_code == 201
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["app_version"] == "2.5.0" and again.get_json()["locale"] == "en"
    # APNs tokens are hex: either spelling is the same device.
    assert again.get_json()["token"] == token
    assert db.session.scalar(select(func.count()).select_from(Device)) == 1


def test_a_token_registered_by_another_user_moves_to_the_new_one(client, member, other_member):
    token = android_token()
    first = register(client, member, "android", token).get_json()
    moved = register(client, other_member, "android", token)
    assert moved.status_code == 201
    assert moved.get_json()["id"] == first["id"]
    assert client.get(DEVICES, headers=member.headers).get_json()["items"] == []
    mine = client.get(DEVICES, headers=other_member.headers).get_json()["items"]
    assert [item["id"] for item in mine] == [first["id"]]


def test_a_retired_token_registered_again_is_active_again(client, member):
    token = android_token()
    device_id = register(client, member, "android", token).get_json()["id"]
    db.session.get(Device, device_id).retired_at = db.func.now()
    db.session.get(Device, device_id).retired_reason = "unregistered"
    db.session.flush()
    again = register(client, member, "android", token).get_json()
    assert again["active"] is True and again["retired_reason"] is None


def test_idempotency_key_replays_the_registration(client, member):
    body = {"platform": "ios", "token": ios_token(), "app_version": "1.0", "locale": "en"}
    headers = {**member.headers, "Idempotency-Key": "device-1"}
    first = client.post(DEVICES, json=body, headers=headers)
    second = client.post(DEVICES, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    # The push token is not kept in the idempotency store: the replay answers it as null.
    assert second.get_json() == {**first.get_json(), "token": None}
    other = client.post(DEVICES, json={**body, "locale": "de"}, headers=headers)
    assert other.status_code == 422


def test_a_user_has_at_most_so_many_active_devices(client, member):
    first = register(client, member, "android").get_json()
    for _ in range(MAX_ACTIVE_DEVICES):
        assert register(client, member, "android").status_code == 201
    items = client.get(DEVICES, headers=member.headers).get_json()["items"]
    assert sum(item["active"] for item in items) == MAX_ACTIVE_DEVICES
    oldest = next(item for item in items if item["id"] == first["id"])
    assert oldest["active"] is False and oldest["retired_reason"] == "replaced"


def test_delete_removes_only_your_own_device(client, member, other_member):
    device_id = register(client, member, "ios").get_json()["id"]
    refused = client.delete(f"{DEVICES}/{device_id}", headers=other_member.headers)
    assert refused.status_code == 404
    assert refused.content_type == "application/problem+json"
    assert client.delete(f"{DEVICES}/{device_id}", headers=member.headers).status_code == 204
    assert client.get(DEVICES, headers=member.headers).get_json()["items"] == []
    gone = client.delete(f"{DEVICES}/{device_id}", headers=member.headers)
    assert gone.status_code == 404


def test_customers_register_devices_too(client, customer):
    assert register(client, customer, "android").status_code == 201


def test_device_endpoints_need_a_signed_in_user(client):
    assert client.get(DEVICES).status_code == 401
    assert client.post(DEVICES, json={}).status_code == 401
    assert client.delete(f"{DEVICES}/1").status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"platform": "windows"}, "platform"),
        ({"platform": "ios", "token": "not-hex-at-all"}, "token"),
        ({"platform": "ios", "token": "ab" * 20}, "token"),
        ({"platform": "android", "token": "short:token"}, "token"),
        ({"platform": "android", "token": "x" * 150 + " spaces"}, "token"),
        ({"platform": "android", "token": "a" * 1025}, "token"),
        ({"locale": "german"}, "locale"),
        ({"locale": "de_DE"}, "locale"),
        ({"app_version": "latest"}, "app_version"),
        ({"name": ""}, "name"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, member, change, field):
    body = {"platform": "android", "token": android_token(), "app_version": "2.4.1"}
    body = {**body, "locale": "de-DE", **change}
    response = client.post(DEVICES, json=body, headers=member.headers)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]["json"]


@pytest.mark.committing
def test_two_users_registering_one_token_at_once_leave_one_device(app, db_session):
    first, second = make_actor("member"), make_actor("customer")
    token = android_token()

    def call(client, i):
        actor = (first, second)[i % 2]
        return register(client, actor, "android", token).status_code

    assert run_concurrently(app, 6, call) == [201] * 6
    rows = db_session.scalars(select(Device).where(Device.token == token)).all()
    assert len(rows) == 1 and rows[0].user_id in (first.user_id, second.user_id)


def test_a_deactivated_account_gets_no_more_pushes(client, cm, member):
    device_id = register(client, member, "android").get_json()["id"]
    response = client.post(
        f"/api/v1/users/{member.user_id}/deactivation",
        json={"reason": "Left the crowd"},
        headers=cm.headers,
    )
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    device = db.session.get(Device, device_id)
    assert device.retired_at is not None and device.retired_reason == "signed_out"
