"""Senders racing for the same delivery (a task handed over twice, the sweeper and the
after-commit run at once): one message goes out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.extensions import db
from notifications.delivery import send_one
from notifications.models import Delivery
from notifications.service import notify
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor


@pytest.mark.committing
def test_senders_racing_for_one_delivery_send_it_once(app, smtp):
    member = make_actor("member")
    notify(member.user_id, "broadcast.announcement", "Once", "x", dedupe_key="race:1")
    db.session.commit()  # without the hand-over: the racing senders do it
    delivery_id = db.session.scalar(select(Delivery.id).where(Delivery.user_id == member.user_id))

    def sender(client, i):
        with task_unit(app):
            return send_one(delivery_id)

    results = run_concurrently(app, 4, sender)

    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(smtp.messages) == 1
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery.status == "sent" and delivery.attempts == 1
