"""The database keeps a tally of notifications counted together (a broadcast's): inbox entries
and reads, and each channel's deliveries by status — on every path that writes them, so the
tally always equals a count of the rows themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.db import use_clock, utcnow
from crowd.extensions import db
from notifications.delivery import LEASE
from notifications.models import Delivery, Notification
from notifications.service import notify_many, tallies
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor
from tests.notifications.conftest import send_and_die, send_due

KEY = "broadcast:tally-test"


def _recount(key: str) -> dict[str, dict[str, int]]:
    """What the tally should say, counted from the rows."""
    db.session.expire_all()
    counted: dict[str, dict[str, int]] = {}
    inbox = db.session.execute(
        select(func.count(), func.count(Notification.read_at)).where(Notification.tally_key == key)
    ).one()
    if inbox[0]:
        counted["inbox"] = {"delivered": inbox[0], "read": inbox[1]}
    for channel, status, count in db.session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .where(Delivery.tally_key == key)
        .group_by(Delivery.channel, Delivery.status)
    ):
        counted.setdefault(channel, {})[status] = count
    return counted


def _tally(key: str) -> dict[str, dict[str, int]]:
    """The tally without the zeros a status leaves behind when its deliveries move on."""
    kept = tallies([key]).get(key, {})
    if "inbox" in kept:
        kept["inbox"].setdefault("read", 0)
    return {
        channel: {status: n for status, n in statuses.items() if n or channel == "inbox"}
        for channel, statuses in kept.items()
    }


def _announce(members, key: str = KEY) -> None:
    """An announcement to each member, counted under `key` (the caller commits)."""
    notify_many(
        "broadcast.announcement",
        "News",
        "Hello.",
        recipients=[(m.user_id, f"{key}:{m.user_id}", {}) for m in members],
        tally_key=key,
    )


def test_the_tally_follows_every_path_that_writes_a_notification_or_a_delivery(
    smtp, client, monkeypatch
):
    members = [make_actor("member") for _ in range(4)]
    _announce(members)
    db.session.commit()
    assert _tally(KEY) == _recount(KEY)
    assert _tally(KEY)["inbox"] == {"delivered": 4, "read": 0}
    assert _tally(KEY)["email"] == {"queued": 4}

    # A second run of the same batch writes nothing new, and counts nothing twice.
    _announce(members)
    db.session.commit()
    assert _tally(KEY)["inbox"] == {"delivered": 4, "read": 0}

    # A sender that dies mid-batch leaves its claims "sending" …
    send_and_die(monkeypatch)
    assert _tally(KEY)["email"] == {"sending": 4} == _recount(KEY)["email"]

    # … taken back after the lease, with mixed outcomes: sent, retried later, failed.
    smtp.replies = ["250 OK", "451 Try again later", "550 No such user", "250 OK"]
    lapsed = utcnow() + LEASE + timedelta(seconds=1)
    with use_clock(lambda: lapsed):
        send_due()
    assert _tally(KEY) == _recount(KEY)
    assert _tally(KEY)["email"] == {"sent": 2, "queued": 1, "failed": 1}

    # Read one in the inbox, then all of them, one of them twice.
    first = db.session.scalar(
        select(Notification.id).where(
            Notification.tally_key == KEY, Notification.user_id == members[0].user_id
        )
    )
    for _twice in range(2):
        read = client.post(f"/api/v1/me/notifications/{first}/read", headers=members[0].headers)
        assert read.status_code == 200
    assert _tally(KEY)["inbox"] == {"delivered": 4, "read": 1}
    for member in members[:3]:
        read = client.post("/api/v1/me/notifications/read-all", headers=member.headers)
        assert read.status_code == 200
    assert _tally(KEY)["inbox"] == {"delivered": 4, "read": 3}
    assert _tally(KEY) == _recount(KEY)


def test_notifications_without_a_tally_key_are_not_counted(smtp):
    member = make_actor("member")
    notify_many(
        "broadcast.announcement", "News", "Hi.", recipients=[(member.user_id, "plain:1", {})]
    )
    db.session.commit()
    send_due()
    assert tallies(["plain:1", KEY]) == {}
    keys = db.session.scalars(select(Delivery.tally_key).where(Delivery.user_id == member.user_id))
    assert list(keys) == [None]  # the email (no phone registered for push)


def test_tallies_of_several_keys_are_read_at_once(smtp):
    first, second = make_actor("member"), make_actor("member")
    _announce([first], "broadcast:a")
    db.session.commit()
    _announce([first, second], "broadcast:b")
    db.session.commit()
    counted = tallies(["broadcast:a", "broadcast:b", "broadcast:none"])
    assert set(counted) == {"broadcast:a", "broadcast:b"}
    assert counted["broadcast:a"]["inbox"]["delivered"] == 1
    assert counted["broadcast:b"]["inbox"]["delivered"] == 2


@pytest.mark.committing
def test_concurrent_batches_and_senders_of_one_broadcast_keep_the_tally_exact(app, smtp):
    members = [make_actor("member") for _ in range(12)]
    db.session.commit()
    batches = [members[i::4] for i in range(4)]

    def deliver(client, i):
        with task_unit(app):
            _announce(batches[i])
            db.session.commit()

    def send(client, i):
        with task_unit(app):
            return send_due()

    run_concurrently(app, 4, deliver)
    assert _tally(KEY)["inbox"] == {"delivered": 12, "read": 0}
    assert _tally(KEY)["email"] == {"queued": 12}
    run_concurrently(app, 4, send)
    assert _tally(KEY) == _recount(KEY)
    assert _tally(KEY)["email"] == {"sent": 12}
