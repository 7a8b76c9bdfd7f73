"""The in-app inbox: written once per event by background work, read and marked by its owner."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crowd.core import background
from crowd.core.db import commit, utcnow
from crowd.notifications.models import Notification
from crowd.notifications.service import notify
from crowd.notifications.tasks import deliver

INBOX = "/api/v1/me/notifications"


def _drain(app):
    """Deliver what the commit queued: inline without Redis, else bursts of a real RQ worker."""
    _rq_burst(app)
    background.relay_outbox()
    _rq_burst(app)


def _rq_burst(app):
    if app.config["CROWD_SETTINGS"].inline_background:
        return
    from rq import Queue, SimpleWorker

    connection = background.redis_connection()
    queue = Queue(app.config["CROWD_SETTINGS"].rq_queue, connection=connection)
    SimpleWorker([queue], connection=connection).work(burst=True)


def _rows(db_session, **where):
    db_session.expire_all()
    query = select(func.count()).select_from(Notification)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
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


def test_notify_writes_the_entry_after_the_commit(app, client, db_session, member):
    notify(member.user_id, "offer.new", "A new offer", "Mount a TV", dedupe_key="t:1", job_id=7)
    assert _rows(db_session, user_id=member.user_id) == 0
    commit()
    _drain(app)

    (item,) = _inbox(client, member)["items"]
    assert item["kind"] == "offer.new" and item["title"] == "A new offer"
    assert item["body"] == "Mount a TV" and item["data"] == {"job_id": 7}
    assert item["read_at"] is None and item["created_at"]


def test_rolled_back_notify_writes_nothing(app, db_session, member):
    notify(member.user_id, "offer.new", "A new offer", dedupe_key="t:rolled-back")
    db_session.rollback()
    background.discard_uncommitted()
    commit()
    _drain(app)

    assert _rows(db_session, user_id=member.user_id) == 0


def test_one_event_writes_one_entry_even_when_its_task_runs_twice(app, db_session, member):
    # Queued twice before either copy ran (two code paths reporting one event) …
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:twice", job_id=3)
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:twice", job_id=3)
    commit()
    _drain(app)
    # … notified again later (a re-run sweep), and the task itself run once more.
    notify(member.user_id, "job.assigned", "Assigned", dedupe_key="t:twice", job_id=3)
    commit()
    _drain(app)
    deliver(
        user_id=member.user_id,
        kind="job.assigned",
        title="Assigned",
        body="",
        data={"job_id": 3},
        key="t:twice",
    )
    commit()

    assert _rows(db_session, dedupe_key="t:twice") == 1
    messages = db_session.scalars(
        select(background.OutboxMessage.status).where(
            background.OutboxMessage.task == "notifications.deliver"
        )
    ).all()
    assert messages == ["done", "done"]


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
