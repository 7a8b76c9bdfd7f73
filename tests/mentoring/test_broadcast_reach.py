"""Issue 20: a broadcast reaches its segment by email and push through the delivery pipeline;
staff see the deliveries per channel and status and the inbox reads, per broadcast and per
recipient; delivering again sends nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core import background
from crowd.extensions import db
from mentoring.broadcasts import delivery
from notifications.delivery import SEND_TASK, suppress
from notifications.models import Delivery, Notification, OutboundEmail
from notifications.push.models import PushOutboxEntry
from tests.jobs.conftest import drain_background
from tests.mentoring.test_broadcasts import crowd_member, send
from tests.notifications.helpers import register

API = "/api/v1"


def _sent_counts(broadcast_id: int) -> tuple[int, int]:
    emails = db.session.scalar(
        select(func.count())
        .select_from(OutboundEmail)
        .where(OutboundEmail.dedupe_key.like(f"broadcast:{broadcast_id}:%"))
    )
    pushes = db.session.scalar(select(func.count()).select_from(PushOutboxEntry))
    return emails, pushes


def test_an_announcement_goes_by_email_and_push_and_reports_reach(app, client, cm):
    phone, plain, bounced = (crowd_member() for _ in range(3))
    assert register(client, phone, "ios").status_code == 201
    suppress("email", bounced.email, "550 earlier bounce")
    db.session.commit()

    broadcast = send(app, client, cm, {"levels": [1]}, kind="announcement")
    background.run_periodic(SEND_TASK)
    bid = broadcast["id"]
    state = client.get(f"{API}/broadcasts/{bid}", headers=cm.headers).json
    counts = state["counts"]
    assert counts["recipients"] == counts["delivered"] == 3 and counts["read"] == 0
    assert counts["channels"]["email"] == {
        "queued": 0,
        "sending": 0,
        "sent": 2,
        "failed": 0,
        "suppressed": 1,
    }
    # Push: the one with a phone got it; the others have no device, so no push was queued.
    assert counts["channels"]["push"]["sent"] == 1
    assert counts["channels"]["push"]["suppressed"] == 0
    assert _sent_counts(bid) == (2, 1)

    # Read in the inbox, or marked read on the message (which reads the inbox entry too).
    inbox = client.get(f"{API}/me/notifications", headers=plain.headers).json["items"]
    [entry] = [n for n in inbox if n["kind"] == "broadcast.announcement"]
    assert (
        client.post(f"{API}/me/notifications/{entry['id']}/read", headers=plain.headers)
    ).status_code == 200
    assert client.post(f"{API}/me/broadcasts/{bid}/read", headers=phone.headers).status_code == 200
    db.session.expire_all()
    phone_entry = db.session.scalar(
        select(Notification).where(
            Notification.dedupe_key.like(f"broadcast:{bid}:%"),
            Notification.user_id == phone.user_id,
        )
    )
    assert phone_entry.read_at is not None
    mine = client.get(f"{API}/me/broadcasts", headers=plain.headers).json["items"]
    assert mine[0]["read"] is True  # read in the inbox counts here too

    counts = client.get(f"{API}/broadcasts/{bid}", headers=cm.headers).json["counts"]
    assert (counts["read"], counts["read_rate"]) == (2, 0.6667)

    listing = client.get(f"{API}/broadcasts/{bid}/recipients?limit=2", headers=cm.headers).json
    assert listing["page"]["total"] == 3 and listing["page"]["next_cursor"]
    rest = client.get(
        f"{API}/broadcasts/{bid}/recipients?limit=2&cursor={listing['page']['next_cursor']}",
        headers=cm.headers,
    ).json
    rows = {r["member_id"]: r for r in listing["items"] + rest["items"]}
    states = {
        member_id: {d["channel"]: d["status"] for d in row["deliveries"]}
        for member_id, row in rows.items()
    }
    assert states[phone.profile_id] == {"email": "sent", "push": "sent"}
    assert states[plain.profile_id] == {"email": "sent"}
    assert states[bounced.profile_id] == {"email": "suppressed"}
    assert rows[bounced.profile_id]["read_at"] is None and rows[plain.profile_id]["read_at"]
    unread = client.get(f"{API}/broadcasts/{bid}/recipients?read=false", headers=cm.headers)
    assert [r["member_id"] for r in unread.json["items"]] == [bounced.profile_id]

    # A second run of every step sends nothing twice.
    ids = sorted(rows)
    assert delivery.resolve_recipients(bid) == 0  # the broadcast is sent: nothing to resolve
    assert (
        delivery.deliver_batch(broadcast_id=bid, first_member_id=ids[0], last_member_id=ids[-1])
        == 0
    )
    db.session.commit()
    drain_background(app)
    background.run_periodic(SEND_TASK)
    assert _sent_counts(bid) == (2, 1)
    db.session.expire_all()
    per_channel = db.session.execute(
        select(Delivery.channel, func.count())
        .where(Delivery.kind == "broadcast.announcement")
        .group_by(Delivery.channel)
    ).all()
    assert sorted(per_channel) == [("email", 3), ("push", 1)]  # push: only the one with a phone


def test_recipients_listing_is_staff_only_and_404_for_unknown(client, cm, member):
    assert client.get(f"{API}/broadcasts/999999/recipients", headers=cm.headers).status_code == 404
    response = client.get(f"{API}/broadcasts/1/recipients", headers=member.headers)
    assert response.status_code == 403
