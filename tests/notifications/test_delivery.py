"""Delivery beyond the inbox: email over a real SMTP server, once per delivery, retried on
temporary failures, suppressed after permanent ones, recovered by the sweeper, held back by
quiet hours, shaped by preferences; consents with double opt-in; the admins' views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from click.testing import CliRunner
from sqlalchemy import select

from crowd.cli import crowd_cli
from crowd.core.db import commit, use_clock, utcnow
from crowd.extensions import db
from notifications.delivery import send_one
from notifications.models import Delivery, OutboundEmail, Suppression
from notifications.push.models import PushOutboxEntry
from notifications.service import notify
from tests.notifications.conftest import send_due
from tests.notifications.helpers import register

API = "/api/v1"


def _deliveries(user_id: int, kind: str | None = None, channel: str | None = "email"):
    """The user's deliveries (on `channel`: email unless told; None: every channel)."""
    db.session.expire_all()
    query = select(Delivery).where(Delivery.user_id == user_id)
    if channel:
        query = query.where(Delivery.channel == channel)
    if kind:
        query = query.where(Delivery.kind == kind)
    return list(db.session.scalars(query.order_by(Delivery.id)))


def _announce(user_id: int, key: str = "a:1") -> None:
    notify(user_id, "broadcast.announcement", "Spring news", "Hello.\n\nSee you.", dedupe_key=key)
    commit()
    send_due()


def test_an_email_has_both_parts_tracking_and_unsubscribe_headers(smtp, member):
    _announce(member.user_id)
    notify(member.user_id, "support.ticket_status", "Ticket answered", "Look.", dedupe_key="s:1")
    commit()
    send_due()

    news, support = smtp.messages
    [delivery] = _deliveries(member.user_id, "broadcast.announcement")
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.sent_at
    assert news["To"] == member.email and news["Subject"] == "Spring news"
    assert "news@crowd.example" in news["From"] and "support@" in support["From"]
    assert news["X-Crowd-Delivery"] == str(delivery.id)
    assert news["Message-ID"] == delivery.provider_message_id
    assert news.get_body(("plain",)).get_content().count("See you.") == 1
    assert "<p>See you.</p>" in news.get_body(("html",)).get_content()
    links = news["List-Unsubscribe"]
    assert links.startswith("<http") and "mailto:unsubscribe@crowd.example" in links
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Transactional: no unsubscribe.
    assert support["List-Unsubscribe"] is None and support["List-Unsubscribe-Post"] is None
    assert support.get_body(("html",)) is not None


def test_one_click_unsubscribe_works_without_sign_in_and_only_once(client, smtp, member):
    _announce(member.user_id)
    url = smtp.messages[0]["List-Unsubscribe"].split(",")[0].strip("<> ")
    path = urlsplit(url).path

    shown = client.get(path)
    assert shown.status_code == 200 and shown.json["unsubscribed"] is False
    first = client.post(path)
    again = client.post(path)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json == {**shown.json, "unsubscribed": True}

    _announce(member.user_id, "a:2")
    assert len(smtp.messages) == 1
    assert len(_deliveries(member.user_id, "broadcast.announcement")) == 1
    assert client.post(path[:-3] + "xyz").status_code == 404


def test_a_temporary_failure_is_retried_with_backoff(smtp, member):
    smtp.replies = ["421 Try again later"]
    _announce(member.user_id)
    [delivery] = _deliveries(member.user_id)
    assert delivery.status == "queued" and delivery.attempts == 1
    assert "421" in delivery.last_error and smtp.messages == []
    wait = delivery.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)

    send_due()  # not due yet
    assert smtp.messages == []
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    send_due()
    [delivery] = _deliveries(member.user_id)
    assert delivery.status == "sent" and delivery.attempts == 2 and len(smtp.messages) == 1


def test_a_permanent_failure_suppresses_the_address(client, smtp, member, admin):
    smtp.replies = ["550 No such user"]
    _announce(member.user_id)
    [delivery] = _deliveries(member.user_id)
    assert delivery.status == "failed" and "550" in delivery.last_error
    [suppression] = db.session.scalars(select(Suppression)).all()
    assert suppression.address == member.email.lower() and suppression.channel == "email"

    _announce(member.user_id, "a:2")
    assert [d.status for d in _deliveries(member.user_id)] == ["failed", "suppressed"]
    assert smtp.messages == []

    listed = client.get(f"{API}/admin/suppressions", headers=admin.headers)
    assert [s["address"] for s in listed.json["items"]] == [member.email.lower()]
    lifted = client.delete(f"{API}/admin/suppressions/{suppression.id}", headers=admin.headers)
    assert lifted.status_code == 204
    _announce(member.user_id, "a:3")
    assert len(smtp.messages) == 1


def test_a_delivery_run_twice_sends_once(smtp, member):
    notify(member.user_id, "broadcast.announcement", "Once", "x", dedupe_key="once")
    db.session.commit()  # no hand-over: the test runs the sender itself
    [delivery] = _deliveries(member.user_id)
    assert send_one(delivery.id) == "sent"
    assert send_one(delivery.id) == "skipped"
    send_due()
    assert len(smtp.messages) == 1


def test_a_lost_hand_over_is_recovered_by_the_sweeper(smtp, member):
    notify(member.user_id, "broadcast.announcement", "Lost", "x", dedupe_key="lost")
    # Committed without the after-commit hook: as if Redis was down or the process died.
    db.session.commit()
    assert smtp.messages == [] and _deliveries(member.user_id)[0].status == "queued"
    assert send_due() == 1
    assert len(smtp.messages) == 1 and _deliveries(member.user_id)[0].status == "sent"


def test_quiet_hours_defer_email_to_their_end(client, smtp, member):
    response = client.put(
        f"{API}/me/notification-preferences",
        json={"time_zone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00"}},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}
    late = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    with use_clock(lambda: late):
        _announce(member.user_id)
    [delivery] = _deliveries(member.user_id)
    assert delivery.status == "queued" and delivery.attempts == 0
    assert delivery.next_attempt_at == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    assert smtp.messages == []
    with use_clock(lambda: datetime(2026, 12, 8, 6, 1, tzinfo=UTC)):
        send_due()
    assert len(smtp.messages) == 1


def test_preferences_switch_channels_but_transactional_kinds_keep_one(client, member):
    url = f"{API}/me/notification-preferences"
    got = client.get(url, headers=member.headers).json
    offers = next(k for k in got["kinds"] if k["kind"] == "broadcast.announcement")
    assert offers["channels"]["inbox"] is True and offers["channels"]["email"] is True

    off = {"kind": "broadcast.announcement", "channel": "email", "enabled": False}
    changed = client.put(url, json={"preferences": [off]}, headers=member.headers)
    assert changed.status_code == 200
    notify(member.user_id, "broadcast.announcement", "Quiet", "x", dedupe_key="q")
    commit()
    assert _deliveries(member.user_id) == []

    email = {"kind": "support.ticket_status", "channel": "email", "enabled": False}
    push = {"kind": "support.ticket_status", "channel": "push", "enabled": False}
    assert client.put(url, json={"preferences": [email]}, headers=member.headers).status_code == 200
    refused = client.put(url, json={"preferences": [off, email, push]}, headers=member.headers)
    assert refused.status_code == 422
    assert "preferences.1.enabled" in refused.json["errors"]["json"]
    unknown = {"kind": "no.such", "channel": "email", "enabled": True}
    refused = client.put(url, json={"preferences": [unknown]}, headers=member.headers)
    assert "preferences.0.kind" in refused.json["errors"]["json"]
    bad_zone = client.put(url, json={"time_zone": "Mars/Olympus"}, headers=member.headers)
    assert "time_zone" in bad_zone.json["errors"]["json"]


def test_newsletter_consent_needs_double_opt_in_and_keeps_its_history(client, smtp, member):
    url = f"{API}/me/consents"
    requested = client.post(url, json={"topic": "newsletter"}, headers=member.headers)
    assert requested.status_code == 202 and requested.json["status"] == "pending"
    send_due()
    [confirmation] = smtp.messages
    text = confirmation.get_body(("plain",)).get_content()
    link = next(word for word in text.split() if "/consents/confirm/" in word)

    # Not consenting yet: a newsletter's email does not go.
    notify(member.user_id, "broadcast.newsletter", "News", "x", dedupe_key="n:1")
    commit()
    assert _deliveries(member.user_id, "broadcast.newsletter") == []

    assert client.get(urlsplit(link).path).json["status"] == "pending"
    confirmed = client.post(urlsplit(link).path)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "granted"
    assert client.post(urlsplit(link).path).json["granted_at"] == confirmed.json["granted_at"]
    notify(member.user_id, "broadcast.newsletter", "News", "x", dedupe_key="n:2")
    commit()
    send_due()
    assert len(smtp.messages) == 2 and smtp.messages[1]["List-Unsubscribe"]

    withdrawn = client.delete(f"{url}/newsletter", headers=member.headers)
    assert withdrawn.json["status"] == "withdrawn"
    [state] = client.get(url, headers=member.headers).json["items"]
    assert [e["action"] for e in state["history"]] == ["requested", "granted", "withdrawn"]
    assert state["history"][1]["method"] == "double_opt_in"
    assert client.post(f"{API}/consents/confirm/forged").status_code == 404


def test_only_admins_read_deliveries_and_the_outbox(client, member, admin):
    _announce(member.user_id)  # offline: kept in the outbox
    assert client.get(f"{API}/admin/deliveries", headers=member.headers).status_code == 403
    assert client.get(f"{API}/admin/outbox", headers=member.headers).status_code == 403
    assert client.get(f"{API}/admin/deliveries").status_code == 401
    listed = client.get(
        f"{API}/admin/deliveries",
        query_string={"status": "sent", "channel": "email", "user_id": member.user_id},
        headers=admin.headers,
    )
    assert listed.status_code == 200 and len(listed.json["items"]) == 1
    [kept] = client.get(f"{API}/admin/outbox", headers=admin.headers).json["items"]
    assert kept["to_address"] == member.email and kept["html"]
    one = client.get(f"{API}/admin/outbox/{kept['id']}", headers=admin.headers).json
    assert one["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_offline_emails_are_listed_and_shown_by_the_cli(app, member):
    _announce(member.user_id)
    email = db.session.scalars(select(OutboundEmail)).one()
    runner = CliRunner()
    with app.test_request_context():
        listed = runner.invoke(crowd_cli, ["outbox", "--last", "5"])
        shown = runner.invoke(crowd_cli, ["outbox", str(email.id)])
    assert "Spring news" in listed.output and member.email in listed.output
    assert "X-Crowd-Delivery:" in shown.output and "--- html ---" in shown.output


def test_the_push_channel_reaches_the_devices_and_queues_nothing_without_one(
    client, member, other_member
):
    assert register(client, member, "ios").status_code == 201
    notify(member.user_id, "offer.new", "A new offer", "Mount a TV", dedupe_key="o:1", job_id=3)
    notify(other_member.user_id, "offer.new", "Another", "Router", dedupe_key="o:2", job_id=4)
    commit()
    send_due()

    assert [(d.channel, d.status) for d in _deliveries(member.user_id, channel=None)] == [
        ("push", "sent")
    ]
    # No device, no push delivery: a member without the app gets none queued at all.
    assert _deliveries(other_member.user_id, channel=None) == []
    [pushed] = db.session.scalars(select(PushOutboxEntry)).all()
    assert (pushed.user_id, pushed.platform, pushed.title) == (member.user_id, "ios", "A new offer")
    assert pushed.data["job_id"] == "3" and pushed.data["kind"] == "offer.new"
    assert pushed.badge == 1
