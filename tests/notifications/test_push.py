"""Pushes reach every active device of a user through the real clients (google-auth and httpx
for FCM, httpx over HTTP/2 for APNs) talking to local fakes; dead tokens are retired, passing
trouble is reported as temporary."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from crowd.config import ConfigError
from crowd.extensions import db
from notifications.config import PushSettings
from notifications.models import Delivery, Notification
from notifications.push.message import PushMessage, message_for_notification
from notifications.push.models import Device, PushOutboxEntry
from notifications.push.sender import send_to_user
from notifications.service import notify
from tests.jobs.conftest import active_member, drain_background, post_job_via_api
from tests.notifications.conftest import send_due
from tests.notifications.helpers import DEVICES, register
from tests.push_fake import APNS_TOPIC, OTHER_APNS_KEY_PEM

MESSAGE = PushMessage(
    title="New job offer",
    body="Mount a TV in Berlin",
    kind="offer.new",
    data={"offer_id": "12", "job_id": "7"},
    badge=3,
    collapse_key="offer.new:12",
)


def _send(user_id: int):
    """send_to_user in a unit of work of its own, as the delivery task runs it."""
    result = send_to_user(user_id, MESSAGE)
    db.session.commit()
    return result


def _devices(client, actor, *platforms) -> list[dict]:
    devices = []
    for platform in platforms:
        response = register(client, actor, platform)
        assert response.status_code == 201, response.get_json()
        devices.append(response.get_json())
    return devices


def test_a_push_reaches_each_device_with_its_deep_link_and_badge(
    client, member, live_push, fcm_fake, apns_fake
):
    pixel, tablet, iphone = _devices(client, member, "android", "android", "ios")

    result = _send(member.user_id)

    assert (result.status, result.sent, result.retired) == ("sent", 3, 0)
    assert {o.device_id for o in result.outcomes} == {pixel["id"], tablet["id"], iphone["id"]}
    for device in (pixel, tablet):
        [message] = fcm_fake.sent_to(device["token"])
        assert message["notification"] == {"title": "New job offer", "body": "Mount a TV in Berlin"}
        assert message["data"] == {"offer_id": "12", "job_id": "7", "kind": "offer.new"}
        assert message["android"]["priority"] == "HIGH"
        assert message["android"]["collapse_key"] == "offer.new:12"
        assert message["android"]["notification"]["notification_count"] == 3
    # The service account's signed grant was exchanged once for an access token.
    assert fcm_fake.refused == []
    [request] = apns_fake.sent_to(iphone["token"])
    assert request.http_version == "2"
    assert request.headers["apns-topic"] == APNS_TOPIC
    assert request.headers["apns-push-type"] == "alert"
    assert request.headers["apns-priority"] == "10"
    assert request.headers["apns-collapse-id"] == "offer.new:12"
    assert request.payload["aps"] == {
        "alert": {"title": "New job offer", "body": "Mount a TV in Berlin"},
        "badge": 3,
        "sound": "default",
    }
    assert (request.payload["offer_id"], request.payload["job_id"]) == ("12", "7")


def test_the_apns_provider_token_is_reused_and_renewed_when_apns_calls_it_expired(
    client, member, live_push, apns_fake
):
    _devices(client, member, "ios")
    assert _send(member.user_id).status == "sent"
    assert _send(member.user_id).status == "sent"
    assert len(set(apns_fake.provider_tokens)) == 1

    # APNs says the token is too old: one new one is signed, and the push goes through.
    apns_fake.expire_provider_tokens()
    assert _send(member.user_id).status == "sent"
    assert _send(member.user_id).status == "sent"
    assert len(set(apns_fake.provider_tokens)) == 2
    assert len(apns_fake.requests) == 4


def test_an_fcm_access_token_refused_is_replaced_once(client, member, live_push, fcm_fake):
    [pixel] = _devices(client, member, "android")
    assert _send(member.user_id).status == "sent"
    fcm_fake.revoke_access_tokens()
    grants = len(fcm_fake.token_grants)

    assert _send(member.user_id).status == "sent"
    assert len(fcm_fake.token_grants) == grants + 1
    assert len(fcm_fake.sent_to(pixel["token"])) == 2


@pytest.mark.parametrize(
    ("platform", "failure", "reason"),
    [
        ("android", "UNREGISTERED", "unregistered"),
        ("android", "INVALID_ARGUMENT", "invalid_token"),
        ("android", "SENDER_ID_MISMATCH", "sender_mismatch"),
        ("ios", (410, "Unregistered"), "unregistered"),
        ("ios", (400, "BadDeviceToken"), "invalid_token"),
    ],
)
def test_a_dead_token_is_retired_and_not_used_again(
    client, member, live_push, fcm_fake, apns_fake, platform, failure, reason
):
    [dead, alive] = _devices(client, member, platform, platform)
    if platform == "android":
        fcm_fake.fail_token(dead["token"], failure)
    else:
        apns_fake.fail_token(dead["token"], *failure)

    result = _send(member.user_id)

    assert (result.status, result.sent, result.retired) == ("sent", 1, 1)
    [outcome] = [o for o in result.outcomes if o.device_id == dead["id"]]
    assert outcome.status == "permanent" and outcome.retired
    listed = {d["id"]: d for d in client.get(DEVICES, headers=member.headers).get_json()["items"]}
    assert listed[dead["id"]]["active"] is False
    assert listed[dead["id"]]["retired_reason"] == reason
    assert listed[alive["id"]]["active"] is True

    fake = fcm_fake if platform == "android" else apns_fake
    before = len(fake.sent_to(alive["token"]))
    again = _send(member.user_id)
    assert [o.device_id for o in again.outcomes] == [alive["id"]]
    assert len(fake.sent_to(alive["token"])) == before + 1


def test_every_token_dead_is_permanent_then_no_device(
    client, member, live_push, fcm_fake, apns_fake
):
    pixel, iphone = _devices(client, member, "android", "ios")
    fcm_fake.fail_token(pixel["token"], "UNREGISTERED")
    apns_fake.fail_token(iphone["token"], 410, "Unregistered")

    result = _send(member.user_id)
    assert (result.status, result.sent, result.retired) == ("permanent", 0, 2)
    assert _send(member.user_id).status == "no_device"


@pytest.mark.parametrize(
    ("platform", "failure", "retry_after"),
    [
        ("android", ("UNAVAILABLE", 30), 30),
        ("android", ("QUOTA_EXCEEDED", 120), 120),
        ("android", ("INTERNAL", None), 60),
        ("ios", (429, "TooManyRequests", 45), 45),
        ("ios", (500, "InternalServerError", None), 60),
        ("ios", (503, "ServiceUnavailable", None), 60),
    ],
)
def test_passing_trouble_is_temporary_and_keeps_the_device(
    client, member, live_push, fcm_fake, apns_fake, platform, failure, retry_after
):
    [device] = _devices(client, member, platform)
    if platform == "android":
        fcm_fake.fail_token(device["token"], failure[0], retry_after=failure[1])
    else:
        apns_fake.fail_token(device["token"], failure[0], failure[1], retry_after=failure[2])

    result = _send(member.user_id)

    assert (result.status, result.sent, result.retired) == ("temporary", 0, 0)
    assert result.retry_after == retry_after
    assert db.session.get(Device, device["id"]).retired_at is None


def test_a_message_the_provider_refuses_is_permanent_but_keeps_the_device(
    client, member, live_push, apns_fake
):
    [iphone] = _devices(client, member, "ios")
    apns_fake.fail_token(iphone["token"], 413, "PayloadTooLarge")
    result = _send(member.user_id)
    assert (result.status, result.retired) == ("permanent", 0)
    assert db.session.get(Device, iphone["id"]).retired_at is None


def test_a_wrong_apns_key_is_refused_and_retires_nothing(
    client, member, live_push, apns_fake, app, monkeypatch
):
    [iphone] = _devices(client, member, "ios")
    monkeypatch.setitem(app.config, "PUSH_APNS_PRIVATE_KEY", OTHER_APNS_KEY_PEM)
    result = _send(member.user_id)
    assert result.status == "permanent" and "InvalidProviderToken" in result.detail
    assert apns_fake.refused and apns_fake.requests == []
    assert db.session.get(Device, iphone["id"]).retired_at is None


def test_a_service_account_google_does_not_know_gets_no_token(
    client, member, live_push, fcm_fake, app, monkeypatch
):
    [pixel] = _devices(client, member, "android")
    stranger = fcm_fake.service_account(key=rsa.generate_private_key(65537, 2048))
    monkeypatch.setitem(app.config, "PUSH_FCM_SERVICE_ACCOUNT", json.dumps(stranger))
    result = _send(member.user_id)
    assert result.status == "permanent" and "service account refused" in result.detail
    assert fcm_fake.refused and fcm_fake.messages == []
    assert db.session.get(Device, pixel["id"]).retired_at is None


def test_fcm_unreachable_is_temporary(client, member, live_push, app, monkeypatch):
    _devices(client, member, "android")
    monkeypatch.setitem(app.config, "PUSH_FCM_BASE_URL", "http://127.0.0.1:9")
    result = _send(member.user_id)
    assert result.status == "temporary" and result.retry_after


def test_no_active_device_is_no_device(client, member, live_push, fcm_fake, apns_fake):
    assert _send(member.user_id).status == "no_device"
    [device] = _devices(client, member, "android")
    assert client.delete(f"{DEVICES}/{device['id']}", headers=member.headers).status_code == 204
    result = _send(member.user_id)
    assert (result.status, result.outcomes) == ("no_device", ())
    assert fcm_fake.messages == [] and apns_fake.requests == []


def test_a_pushed_notification_carries_its_ids_and_the_unread_count(db_session, member):
    notify(member.user_id, "job.assigned", "Assigned", "Earlier", dedupe_key="t:1", job_id=5)
    notify(
        member.user_id,
        "offer.new",
        "New job offer",
        "Mount a TV",
        dedupe_key="offer.new:42",
        offer_id=42,
        job_id=7,
    )
    notification = db_session.scalar(
        select(Notification).where(Notification.dedupe_key == "offer.new:42")
    )

    message = message_for_notification(notification)

    assert (message.title, message.body, message.kind) == (
        "New job offer",
        "Mount a TV",
        "offer.new",
    )
    assert message.data == {
        "offer_id": "42",
        "job_id": "7",
        "notification_id": str(notification.id),
        "kind": "offer.new",
    }
    assert message.badge == 2
    assert message.collapse_key == "offer.new:42"


def test_a_new_offer_reaches_the_members_phone(
    app, client, customer, live_push, fcm_fake, db_session
):
    """The done-when story: a job is posted, its first wave offers it to a member, and the
    delivery pipeline pushes the offer.new notification to their phone, once."""
    offered = active_member()
    [phone] = _devices(client, offered, "android")
    response = post_job_via_api(client, customer)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    notification = db_session.scalar(
        select(Notification).where(
            Notification.user_id == offered.user_id, Notification.kind == "offer.new"
        )
    )

    send_due()

    [delivery] = db_session.scalars(
        select(Delivery).where(Delivery.notification_id == notification.id)
    ).all()
    assert (delivery.channel, delivery.status) == ("push", "sent")
    [message] = fcm_fake.sent_to(phone["token"])
    assert message["data"]["job_id"] == str(response.get_json()["id"])
    assert message["data"]["offer_id"] == str(notification.data["offer_id"])
    assert message["android"]["notification"]["notification_count"] == 1


# --- the offline default ------------------------------------------------------------------


def test_offline_pushes_land_in_the_outbox_admins_read(client, member, admin, app):
    pixel, iphone = _devices(client, member, "android", "ios")

    result = _send(member.user_id)

    assert (result.status, result.sent) == ("sent", 2)
    page = client.get(f"/api/v1/push-outbox?user_id={member.user_id}", headers=admin.headers)
    assert page.status_code == 200
    items = page.get_json()["items"]
    assert {item["device_id"] for item in items} == {pixel["id"], iphone["id"]}
    item = items[0]
    assert item["data"] == {"offer_id": "12", "job_id": "7"} and item["badge"] == 3
    assert item["token_tail"] == iphone["token"][-8:]
    assert client.get("/api/v1/push-outbox", headers=member.headers).status_code == 403

    output = app.test_cli_runner().invoke(args=["crowd", "push-outbox", "--limit", "5"]).output
    assert "New job offer" in output and f"user {member.user_id}" in output


def test_a_deleted_device_keeps_its_outbox_entries(client, member):
    [pixel] = _devices(client, member, "android")
    _send(member.user_id)
    client.delete(f"{DEVICES}/{pixel['id']}", headers=member.headers)
    db.session.expire_all()
    [entry] = db.session.scalars(
        select(PushOutboxEntry).where(PushOutboxEntry.user_id == member.user_id)
    ).all()
    assert entry.device_id is None and entry.title == "New job offer"


# --- settings -----------------------------------------------------------------------------


def test_live_pushes_need_their_settings():
    with pytest.raises(ConfigError) as refused:
        PushSettings.load({"PUSH_PROVIDER": "live"})
    assert str(refused.value) == "PUSH_FCM_PROJECT_ID must be set when PUSH_PROVIDER=live"


def test_a_service_account_that_is_not_one_is_refused_at_start(tmp_path):
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "service_account"}))
    with pytest.raises(ConfigError) as refused:
        PushSettings.load({"PUSH_FCM_SERVICE_ACCOUNT": str(path)})
    assert "PUSH_FCM_SERVICE_ACCOUNT lacks client_email" in str(refused.value)
    assert PushSettings.load({}).provider == "offline"
