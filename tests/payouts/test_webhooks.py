"""Stripe webhooks: signatures on the raw body, one stored event per id, newest state wins."""

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts import webhooks
from payouts.models import ConnectedAccount, WebhookEvent
from payouts.webhooks import Ignored, on_event, retry_webhook_events
from tests.factories import make_actor
from tests.stripe_fake import WEBHOOK_PATH, post_event, signature_header, stripe_event

pytestmark = pytest.mark.usefixtures("webhook_settings")

NOW = int(time.time())


@pytest.fixture
def account():
    """A member's connected account, not yet enabled, state as of ten minutes ago."""
    member = make_actor("member", country="DE")
    row = ConnectedAccount(
        member_id=member.profile_id,
        provider="stripe",
        provider_account_id=f"acct_test{member.profile_id}",
        country="DE",
        payouts_enabled=False,
        charges_enabled=False,
        details_submitted=False,
        updated_from_event_at=datetime.fromtimestamp(NOW - 600, UTC),
    )
    db.session.add(row)
    db.session.commit()
    return row


def account_updated(account, *, enabled: bool, created: int, **kw) -> dict:
    obj = {
        "id": account.provider_account_id,
        "object": "account",
        "payouts_enabled": enabled,
        "charges_enabled": enabled,
        "details_submitted": True,
    }
    return stripe_event("account.updated", obj, created=created, account=obj["id"], **kw)


def stored_events() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def reload(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


# --- signatures -----------------------------------------------------------------------------


def test_a_signed_event_is_stored_and_applied(client, account):
    event = account_updated(account, enabled=True, created=NOW - 5)
    response = post_event(client, event)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "received": True,
        "event_id": event["id"],
        "type": "account.updated",
        "status": "processed",
        "duplicate": False,
    }
    assert reload(account).payouts_enabled is True
    stored = db.session.scalar(select(WebhookEvent).where(WebhookEvent.event_id == event["id"]))
    assert (stored.type, stored.status, stored.account) == (
        "account.updated",
        "processed",
        account.provider_account_id,
    )
    assert stored.created == datetime.fromtimestamp(NOW - 5, UTC)
    assert stored.payload == event
    assert stored.processed_at is not None


def test_a_missing_signature_is_a_400_and_nothing_is_stored(client, account):
    event = account_updated(account, enabled=True, created=NOW)
    response = client.post(WEBHOOK_PATH, data=json.dumps(event), content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {"headers": {"Stripe-Signature": ["missing"]}}
    assert stored_events() == 0
    assert reload(account).payouts_enabled is False


def test_a_signature_made_with_another_secret_is_a_400(client, account):
    event = account_updated(account, enabled=True, created=NOW)
    response = post_event(client, event, secret="whsec_someoneelse")
    assert response.status_code == 400
    assert response.get_json()["errors"]["headers"]["Stripe-Signature"] == [
        "does not match the body"
    ]
    assert stored_events() == 0


def test_a_body_changed_after_signing_is_a_400(client, account):
    signed = json.dumps(account_updated(account, enabled=False, created=NOW))
    header = signature_header(signed)
    tampered = signed.replace('"payouts_enabled": false', '"payouts_enabled": true')
    assert tampered != signed
    response = client.post(
        WEBHOOK_PATH,
        data=tampered,
        headers={"Stripe-Signature": header},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert stored_events() == 0


def test_a_re_serialised_body_is_a_400_because_the_raw_bytes_are_signed(client, account):
    signed = json.dumps(account_updated(account, enabled=True, created=NOW), indent=2)
    header = signature_header(signed)
    response = client.post(
        WEBHOOK_PATH,
        data=json.dumps(json.loads(signed)),
        headers={"Stripe-Signature": header},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_a_stale_signature_is_a_400(client, account):
    event = account_updated(account, enabled=True, created=NOW - 400)
    response = post_event(client, event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert response.get_json()["errors"]["headers"]["Stripe-Signature"] == ["too old"]
    assert stored_events() == 0
    assert reload(account).payouts_enabled is False


def test_a_signature_from_the_future_is_a_400(client, account):
    # Issue 16: the SDK refuses only old timestamps; one an hour ahead was accepted.
    event = account_updated(account, enabled=True, created=NOW)
    response = post_event(client, event, timestamp=int(time.time()) + 3600)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {
        "headers": {"Stripe-Signature": ["too far in the future"]}
    }
    assert stored_events() == 0
    assert reload(account).payouts_enabled is False


def test_a_signature_just_ahead_of_our_clock_is_accepted(client, account):
    event = account_updated(account, enabled=True, created=NOW)
    response = post_event(client, event, timestamp=int(time.time()) + 280)
    assert response.status_code == 200
    assert reload(account).payouts_enabled is True


def test_a_signed_event_created_in_the_future_is_a_422(client, account):
    event = account_updated(account, enabled=True, created=int(time.time()) + 3600)
    response = post_event(client, event)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"created": ["in the future"]}}
    assert stored_events() == 0


def test_a_signature_just_inside_the_tolerance_is_accepted(client, account):
    event = account_updated(account, enabled=True, created=NOW - 200)
    response = post_event(client, event, timestamp=int(time.time()) - 280)
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", "t=123", "v1=deadbeef"])
def test_a_malformed_signature_header_is_a_400(client, account, header):
    event = json.dumps(account_updated(account, enabled=True, created=NOW))
    response = client.post(
        WEBHOOK_PATH,
        data=event,
        headers={"Stripe-Signature": header},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert stored_events() == 0


def test_a_signed_body_that_is_not_an_event_is_a_422(client):
    for payload in ("not json", json.dumps([1, 2]), json.dumps({"id": "evt_1", "type": "x"})):
        response = post_event(client, payload)
        assert response.status_code == 422, payload
    response = post_event(client, json.dumps({"id": "evt_1", "type": "x", "created": 1}))
    assert set(response.get_json()["errors"]["json"]) == {"data"}
    assert stored_events() == 0


def test_a_signed_event_with_values_no_store_can_take_is_a_422_naming_them(client, account):
    event = account_updated(account, enabled=True, created=int(time.time()))
    text = json.dumps(event).replace('"object": {', '"object": {"note": "\\ud800", ', 1)
    response = post_event(client, text)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]["data"]["object"]) == ["note"]
    big = json.dumps(event).replace('"created": ', '"created": ' + "9" * 5000 + ', "x": ', 1)
    assert post_event(client, big).status_code == 422
    assert stored_events() == 0


def test_a_signed_body_that_is_not_utf8_is_a_400(client):
    payload = b'{"id": "\xff"}'
    response = client.post(
        WEBHOOK_PATH,
        data=payload,
        headers={"Stripe-Signature": "t=1,v1=00"},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_without_a_configured_secret_webhooks_are_a_503(client, app, monkeypatch):
    settings = app.config["CROWD_SETTINGS"].model_copy(update={"stripe_webhook_secret": None})
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    response = post_event(client, stripe_event("account.updated", {"id": "acct_1"}))
    assert response.status_code == 503
    assert stored_events() == 0


# --- duplicates and order -------------------------------------------------------------------


def test_a_duplicate_event_is_acknowledged_and_changes_nothing(client, account):
    event = account_updated(account, enabled=True, created=NOW - 5)
    assert post_event(client, event).get_json()["duplicate"] is False
    # Something newer changed the account meanwhile; the replay must not undo it.
    row = reload(account)
    row.payouts_enabled = False
    db.session.commit()
    again = post_event(client, event)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert reload(account).payouts_enabled is False
    assert stored_events() == 1
    stored = db.session.scalar(select(WebhookEvent))
    assert stored.attempts == 1


def test_out_of_order_account_updates_leave_the_newest_state(client, account):
    newer = account_updated(account, enabled=True, created=NOW - 10)
    older = account_updated(account, enabled=False, created=NOW - 60)
    assert post_event(client, newer).get_json()["status"] == "processed"
    response = post_event(client, older)
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert reload(account).payouts_enabled is True
    stale = db.session.scalar(select(WebhookEvent).where(WebhookEvent.event_id == older["id"]))
    assert stale.note == "older than the account state already applied"
    assert reload(account).updated_from_event_at == datetime.fromtimestamp(NOW - 10, UTC)


def test_account_updates_in_order_apply_each(client, account):
    post_event(client, account_updated(account, enabled=True, created=NOW - 60))
    assert reload(account).payouts_enabled is True
    post_event(client, account_updated(account, enabled=False, created=NOW - 10))
    assert reload(account).payouts_enabled is False


def test_an_event_older_than_the_retrieved_state_is_ignored(client, account):
    event = account_updated(account, enabled=True, created=NOW - 3600)
    assert post_event(client, event).get_json()["status"] == "ignored"
    assert reload(account).payouts_enabled is False


def test_an_update_of_an_unknown_account_is_stored_as_ignored(client):
    event = stripe_event("account.updated", {"id": "acct_not_ours", "payouts_enabled": True})
    response = post_event(client, event)
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert stored_events() == 1


def test_an_event_type_without_a_handler_is_stored_as_ignored(client):
    event = stripe_event("customer.created", {"id": "cus_1"})
    assert post_event(client, event).get_json()["status"] == "ignored"
    stored = db.session.scalar(select(WebhookEvent))
    assert stored.note == "no handler for this event type"


# --- handlers -------------------------------------------------------------------------------


def test_a_failing_handler_keeps_the_event_and_the_retry_applies_it(client, account, monkeypatch):
    attempts = []

    def flaky(event):
        attempts.append(event.event_id)
        row = db.session.get(ConnectedAccount, account.id)
        row.details_submitted = True
        if len(attempts) == 1:
            raise RuntimeError("ledger busy")
        return None

    monkeypatch.setitem(webhooks.HANDLERS, "test.flaky", flaky)
    event = stripe_event("test.flaky", {"id": "obj_1"})
    response = post_event(client, event)
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    stored = db.session.scalar(select(WebhookEvent))
    assert (stored.status, stored.attempts) == ("failed", 1)
    assert "ledger busy" in stored.note
    # The failed attempt's own writes were rolled back with its savepoint.
    assert reload(account).details_submitted is False

    assert retry_webhook_events() == 1
    db.session.commit()
    stored = reload(stored)
    assert (stored.status, stored.attempts, stored.note) == ("processed", 2, None)
    assert reload(account).details_submitted is True
    assert retry_webhook_events() == 0


def test_a_handler_may_report_the_event_as_ignored(client, monkeypatch):
    monkeypatch.setitem(webhooks.HANDLERS, "test.noop", lambda event: Ignored("nothing to do"))
    response = post_event(client, stripe_event("test.noop", {"id": "obj_1"}))
    assert response.get_json()["status"] == "ignored"
    assert db.session.scalar(select(WebhookEvent.note)) == "nothing to do"


def test_a_type_takes_one_handler_only(monkeypatch):
    monkeypatch.setattr(webhooks, "HANDLERS", {})

    @on_event("test.one", "test.two")
    def first(event):
        return None

    registered = webhooks.HANDLERS
    assert registered == {"test.one": first, "test.two": first}
    with pytest.raises(ValueError):

        @on_event("test.two")
        def second(event):
            return None


def test_account_updated_is_handled_by_the_connected_accounts():
    webhooks._load_handlers()
    assert webhooks.HANDLERS["account.updated"].__module__ == "payouts.accounts"
    assert "account.updated" in webhooks.SUBSCRIBED_EVENT_TYPES
