"""The sender works in batches: one claim, one SMTP connection and one recording for many
deliveries. Each outcome of a batch is recorded as its own; a batch whose sender dies after
claiming it is taken back when the lease lapses and sent then."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.db import use_clock, utcnow
from crowd.extensions import db
from notifications import delivery
from notifications.channels import EMAIL
from notifications.delivery import LEASE
from notifications.models import Consent, Delivery, Suppression
from notifications.service import notify
from tests.factories import make_actor
from tests.notifications.conftest import send_and_die, send_due


def _announce_to(members, key: str) -> list[int]:
    """An announcement to each member, committed without the hand-over (the test sends)."""
    for n, member in enumerate(members):
        notify(member.user_id, "broadcast.announcement", "News", "Hello.", dedupe_key=f"{key}:{n}")
    db.session.commit()
    return [
        db.session.scalar(
            select(Delivery.id).where(Delivery.user_id == m.user_id, Delivery.channel == EMAIL)
        )
        for m in members
    ]


def _delivery(delivery_id: int) -> Delivery:
    db.session.expire_all()
    return db.session.get(Delivery, delivery_id)


def test_a_batch_with_mixed_outcomes_records_each(smtp):
    members = [make_actor("member") for _ in range(3)]
    ok, later, dead = _announce_to(members, "mixed")
    # The sender takes them in queue order, over one connection.
    smtp.replies = ["250 OK", "451 Try again later", "550 No such user"]

    assert send_due() == 1

    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == members[0].email
    sent = _delivery(ok)
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
    assert sent.provider_message_id == smtp.messages[0]["Message-ID"]
    assert sent.claimed_until is None and sent.last_error is None

    retried = _delivery(later)
    assert retried.status == "queued" and retried.attempts == 1 and retried.claimed_until is None
    assert "451" in retried.last_error and retried.sent_at is None
    wait = retried.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)

    failed = _delivery(dead)
    assert failed.status == "failed" and "550" in failed.last_error
    assert failed.address == members[2].email
    [suppression] = db.session.scalars(select(Suppression)).all()
    assert suppression.address == members[2].email.lower() and suppression.delivery_id == dead

    # The retry goes out once it is due; the dead address gets nothing more.
    due = utcnow() + timedelta(minutes=2)
    with use_clock(lambda: due):
        assert send_due() == 1
    assert [m["To"] for m in smtp.messages] == [members[0].email, members[1].email]
    assert _delivery(later).status == "sent" and _delivery(later).attempts == 2


def test_a_claimed_batch_whose_sender_dies_is_taken_back_after_the_lease(smtp, monkeypatch):
    members = [make_actor("member") for _ in range(3)]
    ids = _announce_to(members, "died")

    send_and_die(monkeypatch)
    claimed = [_delivery(i) for i in ids]
    assert {d.status for d in claimed} == {"sending"} and {d.attempts for d in claimed} == {1}
    assert smtp.messages == []

    # While the lease holds, no other sender touches the batch.
    assert send_due() == 0
    assert smtp.messages == [] and {_delivery(i).status for i in ids} == {"sending"}

    # Once it lapses, the next run takes the batch back and sends each delivery once.
    lapsed = utcnow() + LEASE + timedelta(seconds=1)
    with use_clock(lambda: lapsed):
        assert send_due() == 3
    assert sorted(m["To"] for m in smtp.messages) == sorted(m.email for m in members)
    assert [(_delivery(i).status, _delivery(i).attempts) for i in ids] == [("sent", 2)] * 3


def test_a_batch_past_half_its_lease_releases_what_it_has_not_sent(smtp, monkeypatch):
    members = [make_actor("member") for _ in range(2)]
    ids = _announce_to(members, "slow")
    with monkeypatch.context() as patched:
        patched.setattr(delivery, "LEASE", timedelta(0))  # half of it is gone at once
        assert send_due() == 0
    assert smtp.messages == []
    released = [_delivery(i) for i in ids]
    assert [(d.status, d.attempts) for d in released] == [("queued", 0)] * 2
    assert all("half its lease" in d.last_error for d in released)

    assert send_due() == 2 and len(smtp.messages) == 2


def test_a_newsletter_queued_before_its_consent_was_withdrawn_is_not_sent(smtp):
    member = make_actor("member")
    consent = Consent(user_id=member.user_id, topic="newsletter", granted_at=utcnow())
    db.session.add(consent)
    db.session.commit()
    notify(member.user_id, "broadcast.newsletter", "News", "x", dedupe_key="consent:1")
    db.session.commit()  # queued while consenting, not sent yet
    delivery_id = db.session.scalar(select(Delivery.id).where(Delivery.channel == EMAIL))

    consent.withdrawn_at = utcnow()
    db.session.commit()
    assert send_due() == 0

    assert smtp.messages == []
    withheld = _delivery(delivery_id)
    assert withheld.status == "suppressed" and "consent" in withheld.last_error
