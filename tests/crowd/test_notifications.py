"""The in-app inbox: written once per event in the caller's unit of work, read and marked by
its owner."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from crowd.core import background
from crowd.core.db import commit, utcnow
from crowd.core.errors import Conflict
from crowd.extensions import db
from jobs.models import Offer
from notifications.models import Notification
from notifications.service import notify, notify_many
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, post_job_via_api

INBOX = "/api/v1/me/notifications"


def _rows(db_session, **where):
    db_session.expire_all()
    query = select(func.count()).select_from(Notification)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return db_session.scalar(query)


def _kinds(user_id: int) -> list[str]:
    db.session.expire_all()
    query = select(Notification.kind).where(Notification.user_id == user_id)
    return list(db.session.scalars(query.order_by(Notification.id)))


def _queued_deliveries(db_session) -> int:
    query = select(func.count()).where(background.OutboxMessage.task == "notifications.deliver")
    return db_session.scalar(query)


def _add(db_session, actor, n=1, *, read=False, kind="job.assigned"):
    """`n` notifications for `actor` written straight to the inbox; returns their ids."""
    rows = [
        Notification(
            user_id=actor.user_id,
            kind=kind,
            title=f"Title {i}",
            body=f"Body {i}",
            data={"job_id": i},
            read_at=utcnow() if read else None,
        )
        for i in range(n)
    ]
    db_session.add_all(rows)
    db_session.commit()
    return [row.id for row in rows]


def _inbox(client, actor, **query):
    response = client.get(INBOX, query_string=query, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- writing --------------------------------------------------------------------------------


def test_notify_writes_the_entry_in_the_callers_transaction(client, db_session, member):
    notify(member.user_id, "offer.new", "A new offer", "Mount a TV", dedupe_key="t:1", job_id=7)
    # In the transaction already, before any commit, and nothing queued for a worker.
    assert _rows(db_session, user_id=member.user_id) == 1
    assert _queued_deliveries(db_session) == 0
    commit()

    (item,) = _inbox(client, member)["items"]
    assert item["kind"] == "offer.new" and item["title"] == "A new offer"
    assert item["body"] == "Mount a TV" and item["data"] == {"job_id": 7}
    assert item["read_at"] is None and item["created_at"]


def _offered_job(app, client, customer, count: int) -> tuple[int, list]:
    """A posted job whose first wave offered it to `count` members (their offer.new landed)."""
    offered = [active_member() for _ in range(count)]
    response = post_job_via_api(client, customer)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    for member in offered:
        assert _kinds(member.user_id) == ["offer.new"]
    return response.get_json()["id"], offered


def test_notifications_are_there_right_after_the_committing_request(
    app, client, db_session, customer, cm, monkeypatch
):
    monkeypatch.setitem(app.config, "JOBS_WAVE_SIZE", 2)
    job_id, offered = _offered_job(app, client, customer, 2)
    chosen = active_member()

    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/assign",
        json={"member_id": chosen.profile_id},
        headers=cm.headers,
    )

    assert response.status_code == 200, response.get_json()
    # No background work ran since the request: its own commit wrote them.
    for member in offered:
        assert _kinds(member.user_id) == ["offer.new", "offer.withdrawn"]
    assert _kinds(chosen.user_id) == ["job.assigned"]
    assert _kinds(customer.user_id) == ["job.assigned"]
    assert _queued_deliveries(db_session) == 0


def test_a_request_failing_after_notify_leaves_no_notification(
    app, client, db_session, customer, cm, monkeypatch
):
    monkeypatch.setitem(app.config, "JOBS_WAVE_SIZE", 2)
    job_id, offered = _offered_job(app, client, customer, 2)
    chosen = active_member()
    written = []

    def fail_after_the_notifications(job):
        # The assignment has written its notifications into the request's transaction …
        written.extend([_kinds(chosen.user_id), _kinds(customer.user_id)])
        raise Conflict("Something went wrong after notifying.")

    monkeypatch.setattr("jobs.assignment.schedule_after_assignment", fail_after_the_notifications)
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/assign",
        json={"member_id": chosen.profile_id},
        headers=cm.headers,
    )

    assert response.status_code == 409, response.get_json()
    assert written == [["job.assigned"], ["job.assigned"]]
    # … and the failed request's rollback took them away with the rest of its work.
    for member in offered:
        assert _kinds(member.user_id) == ["offer.new"]
    assert _kinds(chosen.user_id) == [] and _kinds(customer.user_id) == []
    db_session.expire_all()
    assert {o.status for o in db_session.scalars(select(Offer).where(Offer.job_id == job_id))} == {
        "pending"
    }


def test_rolled_back_notify_writes_nothing(app, db_session, member):
    notify(member.user_id, "offer.new", "A new offer", dedupe_key="t:rolled-back")
    notify_many("offer.new", "A new offer", recipients=[(member.user_id, "t:rolled-back:2", {})])
    db_session.rollback()
    commit()
    drain_background(app)

    assert _rows(db_session, user_id=member.user_id) == 0


def test_one_event_notified_twice_in_one_transaction_writes_one_entry(db_session, member):
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:twice", job_id=3)
    notify(member.user_id, "job.assigned", "Assigned again", dedupe_key="t:twice", job_id=4)
    commit()

    (row,) = db_session.scalars(select(Notification).where(Notification.dedupe_key == "t:twice"))
    assert (row.title, row.data) == ("Assigned", {"job_id": 3})


def test_one_event_notified_in_two_transactions_writes_one_entry(db_session, member):
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:again", job_id=3)
    commit()
    # A re-run sweep reports the same event later: harmless, the unit of work commits.
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:again", job_id=3)
    notify(member.user_id, "job.reminder", "Tomorrow", dedupe_key="t:other", job_id=3)
    commit()

    assert _rows(db_session, dedupe_key="t:again") == 1
    assert _rows(db_session, user_id=member.user_id) == 2


def test_notify_many_writes_each_event_once(db_session, member, other_member, customer):
    notify(customer.user_id, "offer.new", "Old", dedupe_key="t:many:0")
    commit()

    notify_many(
        "offer.new",
        "A new offer",
        "Mount a TV",
        recipients=[
            (member.user_id, "t:many:1", {"offer_id": 1}),
            (other_member.user_id, "t:many:2", {"offer_id": 2}),
            (other_member.user_id, "t:many:2", {"offer_id": 2}),  # the same event twice
            (customer.user_id, "t:many:0", {"offer_id": 0}),  # written before
        ],
    )
    notify_many("offer.new", "Nobody", recipients=[])
    commit()

    rows = db_session.scalars(
        select(Notification).where(Notification.dedupe_key.like("t:many:%"))
    ).all()
    assert sorted((r.dedupe_key, r.user_id, r.title, r.data) for r in rows) == [
        ("t:many:0", customer.user_id, "Old", {}),
        ("t:many:1", member.user_id, "A new offer", {"offer_id": 1}),
        ("t:many:2", other_member.user_id, "A new offer", {"offer_id": 2}),
    ]
    assert all(r.body == "Mount a TV" and r.created_at for r in rows if r.title != "Old")


def test_notify_many_writes_one_statement(db_session, member, other_member):
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            statements.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        notify_many(
            "offer.new",
            "A new offer",
            recipients=[(u, f"t:one:{u}", {}) for u in (member.user_id, other_member.user_id)],
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == 1
    assert _rows(db_session, kind="offer.new") == 2


def test_message_queued_by_the_old_release_is_still_delivered_once(app, db_session, member):
    # What notify() used to write into the outbox: still in production databases at upgrade.
    background.enqueue(
        "notifications.deliver",
        user_id=member.user_id,
        kind="job.assigned",
        title="Assigned",
        body="Mount a TV",
        data={"job_id": 3},
        key="t:old",
    )
    commit()
    drain_background(app)

    (row,) = db_session.scalars(select(Notification).where(Notification.dedupe_key == "t:old"))
    assert (row.user_id, row.kind, row.title, row.body, row.data) == (
        member.user_id,
        "job.assigned",
        "Assigned",
        "Mount a TV",
        {"job_id": 3},
    )
    (status,) = db_session.scalars(
        select(background.OutboxMessage.status).where(
            background.OutboxMessage.task == "notifications.deliver"
        )
    )
    assert status == "done"
    # Delivered again (a relay retry) or reported again by the new code: still one entry.
    background.TASKS["notifications.deliver"].func(
        user_id=member.user_id,
        kind="job.assigned",
        title="Assigned",
        body="Mount a TV",
        data={"job_id": 3},
        key="t:old",
    )
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:old", job_id=3)
    commit()
    assert _rows(db_session, dedupe_key="t:old") == 1


# --- writing concurrently (PostgreSQL) ------------------------------------------------------


def _waiting_on_a_lock() -> int:
    """Sessions of this test database blocked on a lock right now."""
    waiting = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )
    db.session.rollback()  # the activity view is a snapshot kept for the whole transaction
    return waiting


@pytest.mark.committing
def test_concurrent_duplicate_waits_then_skips_and_both_callers_commit(app, on_postgres):
    member = make_actor("member")
    first_wrote = threading.Event()

    def caller(_client, i):
        with app.app_context():
            try:
                if i == 1:
                    assert first_wrote.wait(timeout=30)
                notify(member.user_id, "offer.new", f"From {i}", dedupe_key="t:race", caller=i)
                if i == 0:
                    # Our row is uncommitted: the other caller's INSERT must now wait for us.
                    first_wrote.set()
                    deadline = time.monotonic() + 30
                    with app.app_context():
                        while not _waiting_on_a_lock():
                            assert time.monotonic() < deadline, "the duplicate never waited"
                            time.sleep(0.02)
                notify(member.user_id, "offer.new", "Other", dedupe_key=f"t:own:{i}")
                commit()
                return "committed"
            except Exception as error:  # noqa: BLE001  (the result names what went wrong)
                db.session.rollback()
                return repr(error)

    results = run_concurrently(app, 2, caller)

    assert results == ["committed", "committed"]
    with app.app_context():
        rows = db.session.execute(
            select(Notification.dedupe_key, Notification.title).order_by(Notification.dedupe_key)
        ).all()
    # The first writer's entry, once; each caller's other work landed with its commit.
    assert [tuple(r) for r in rows] == [
        ("t:own:0", "Other"),
        ("t:own:1", "Other"),
        ("t:race", "From 0"),
    ]


@pytest.mark.committing
def test_many_callers_writing_the_same_events_at_once_all_commit(app, on_postgres):
    members = [make_actor("member") for _ in range(5)]
    events = [(m.user_id, f"t:burst:{n}:{m.user_id}", {}) for m in members for n in range(4)]

    def caller(_client, i):
        # Each caller reports the same 20 events, in its own order.
        mine = random.Random(i).sample(events, len(events))
        with app.app_context():
            try:
                notify_many("offer.new", f"From {i}", recipients=mine)
                commit()
                return "committed"
            except Exception as error:  # noqa: BLE001  (the result names what went wrong)
                db.session.rollback()
                return repr(error)

    results = run_concurrently(app, 12, caller)

    assert results == ["committed"] * 12
    with app.app_context():
        keys = db.session.scalars(select(Notification.dedupe_key)).all()
    assert sorted(keys) == sorted(key for _, key, _ in events)


# --- reading --------------------------------------------------------------------------------


def test_inbox_lists_my_notifications_newest_first_with_unread_count(
    client, db_session, customer, member
):
    mine = _add(db_session, customer, 3)
    _add(db_session, customer, 1, read=True)
    _add(db_session, member, 2)

    body = _inbox(client, customer)

    assert len(body["items"]) == 4
    assert [i["id"] for i in body["items"]][1:] == mine[::-1]
    assert body["unread_count"] == 3
    assert body["page"]["total"] == 4


def test_unread_filter_lists_only_unread(client, db_session, customer):
    unread = _add(db_session, customer, 2)
    _add(db_session, customer, 2, read=True)

    body = _inbox(client, customer, unread="true")

    assert [i["id"] for i in body["items"]] == unread[::-1]
    assert body["unread_count"] == 2 and body["page"]["total"] == 2
    assert len(_inbox(client, customer, unread="false")["items"]) == 4


def test_inbox_is_paginated_by_cursor(client, db_session, member):
    ids = _add(db_session, member, 5)

    first = _inbox(client, member, limit=2)
    second = _inbox(client, member, limit=2, cursor=first["page"]["next_cursor"])
    third = _inbox(client, member, limit=2, cursor=second["page"]["next_cursor"])

    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert seen == ids[::-1]
    assert third["page"]["next_cursor"] is None
    assert first["unread_count"] == 5


def test_bad_query_is_422(client, member):
    for query in ({"unread": "maybe"}, {"limit": 0}, {"cursor": "%%%"}):
        response = client.get(INBOX, query_string=query, headers=member.headers)
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"


def test_every_role_has_an_inbox(client, db_session, cm):
    _add(db_session, cm, 1, kind="job.escalated")
    assert _inbox(client, cm)["items"][0]["kind"] == "job.escalated"


def test_inbox_needs_a_signed_in_user(client):
    assert client.get(INBOX).status_code == 401
    assert client.post(f"{INBOX}/read-all").status_code == 401
    assert client.post(f"{INBOX}/1/read").status_code == 401


# --- marking read ---------------------------------------------------------------------------


def test_marking_read_keeps_the_first_read_time(client, db_session, member):
    (notification_id,) = _add(db_session, member, 1)

    first = client.post(f"{INBOX}/{notification_id}/read", headers=member.headers)
    again = client.post(f"{INBOX}/{notification_id}/read", headers=member.headers)

    assert first.status_code == again.status_code == 200
    assert first.get_json()["read_at"] is not None
    assert again.get_json()["read_at"] == first.get_json()["read_at"]
    assert _inbox(client, member)["unread_count"] == 0


def test_others_cannot_see_or_mark_my_notifications(client, db_session, member, other_member):
    (notification_id,) = _add(db_session, member, 1)

    response = client.post(f"{INBOX}/{notification_id}/read", headers=other_member.headers)

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert _inbox(client, other_member)["items"] == []
    assert client.post(f"{INBOX}/999999/read", headers=member.headers).status_code == 404
    db_session.expire_all()
    assert db_session.get(Notification, notification_id).read_at is None


def test_read_all_marks_only_my_unread_notifications(client, db_session, customer, member):
    _add(db_session, customer, 3)
    (already,) = _add(db_session, customer, 1, read=True)
    _add(db_session, member, 2)
    db_session.get(Notification, already).read_at = utcnow() - timedelta(days=1)
    db_session.commit()
    earlier = db_session.get(Notification, already).read_at

    response = client.post(f"{INBOX}/read-all", headers=customer.headers)

    assert response.status_code == 200
    assert response.get_json() == {"marked": 3}
    assert _inbox(client, customer)["unread_count"] == 0
    assert _inbox(client, member)["unread_count"] == 2
    db_session.expire_all()
    assert db_session.get(Notification, already).read_at == earlier
    again = client.post(f"{INBOX}/read-all", headers=customer.headers)
    assert again.get_json() == {"marked": 0}
