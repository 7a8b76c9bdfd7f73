"""A unit of work that loses a race in the database (deadlock, serialization failure) runs
again from its start — a request through RetryOnContention, a task through
retry_on_contention — has its effect once, and answers "Busy, try again" only when no run
is left; a database that is not reachable stays the other 503."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import jobs.events
import jobs.posting
import jobs.reviews
import jobs.service
from crowd.core import db as unit_of_work
from crowd.core.audit import AuditEntry
from crowd.core.background import OutboxMessage, enqueue, task
from crowd.core.db import commit, is_postgres
from crowd.core.idempotency import IdempotencyRecord
from crowd.extensions import db, limiter
from jobs.models import Job, Review
from members.models import MemberStats
from tests.jobs.conftest import finished_job, post_job_via_api

SQLSTATES = {"40P01": psycopg.errors.DeadlockDetected, "40001": psycopg.errors.SerializationFailure}
RUNS: dict[str, int] = {}


def lose_a_race(sqlstate: str = "40P01") -> None:
    """Fail as a transaction PostgreSQL picked as a deadlock (or serialization) victim."""
    if is_postgres():
        # The server's own error, with its SQLSTATE, through the driver.
        db.session.execute(
            text(f"DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = '{sqlstate}'; END $$")
        )
    raise OperationalError("UPDATE …", {}, SQLSTATES[sqlstate]("lost a race"))


def losing(real, *, times: int, sqlstate: str = "40P01", counter: str = "view"):
    """`real`, losing a race on its first `times` calls (then doing its work)."""
    RUNS[counter] = 0

    def wrapper(*args, **kwargs):
        RUNS[counter] += 1
        if RUNS[counter] <= times:
            lose_a_race(sqlstate)
        return real(*args, **kwargs)

    return wrapper


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.001)


def _review(client, actor, job_id, **headers):
    return client.post(
        f"/api/v1/jobs/{job_id}/reviews", json={"stars": 4}, headers={**actor.headers, **headers}
    )


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_request_that_lost_a_race_runs_again_and_has_its_effect_once(
    client, monkeypatch, customer, member, sqlstate
):
    job_id = finished_job(customer, member)
    # The first run has flushed the review when the race is lost: it must not survive.
    monkeypatch.setattr(
        jobs.reviews, "enqueue", losing(jobs.reviews.enqueue, times=1, sqlstate=sqlstate)
    )

    response = _review(client, customer, job_id, **{"Idempotency-Key": "review-1"})

    assert response.status_code == 201, response.get_json()
    assert RUNS["view"] == 2
    assert _count(Review, Review.job_id == job_id) == 1
    assert _count(OutboxMessage, OutboxMessage.task == "jobs.publish_reviews") == 1
    assert _count(IdempotencyRecord, IdempotencyRecord.key == "review-1") == 1
    replay = _review(client, customer, job_id, **{"Idempotency-Key": "review-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json()["id"] == response.get_json()["id"]


def test_a_request_that_keeps_losing_answers_busy_and_saves_nothing(
    client, monkeypatch, customer, member
):
    job_id = finished_job(customer, member)
    monkeypatch.setattr(jobs.reviews, "enqueue", losing(jobs.reviews.enqueue, times=99))

    response = _review(client, customer, job_id)

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "https://crowd.example/problems/contention"
    assert body["title"] == "Busy, try again"
    assert "not reachable" not in body["detail"]
    assert response.headers["Retry-After"] == "1"
    assert RUNS["view"] == unit_of_work.CONTENTION_ATTEMPTS
    assert _count(Review, Review.job_id == job_id) == 0


def test_every_run_reads_the_same_body(client, monkeypatch, customer):
    seen = []
    real = losing(jobs.posting.post_job, times=2)

    def post_job(**kwargs):
        seen.append(kwargs["title"])
        return real(**kwargs)

    monkeypatch.setattr(jobs.posting, "post_job", post_job)

    response = post_job_via_api(client, customer, title="Hang three shelves")

    assert response.status_code == 201, response.get_json()
    assert seen == ["Hang three shelves"] * 3
    assert _count(Job, Job.title == "Hang three shelves") == 1


def test_a_run_again_is_not_counted_again_by_the_rate_limit(app, client, monkeypatch, customer):
    limiter.init_app(app)  # another app built by a test may have re-pointed the shared limiter
    limiter.reset()
    tight = app.config["CROWD_SETTINGS"].model_copy(
        update=dict(rate_limit_job_posting="1 per minute")
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", tight)
    monkeypatch.setattr(jobs.posting, "post_job", losing(jobs.posting.post_job, times=1))

    first = post_job_via_api(client, customer)
    second = post_job_via_api(client, customer)

    assert first.status_code == 201, first.get_json()
    assert second.status_code == 429
    limiter.reset()


def test_a_staff_action_run_again_is_audited_once_as_it_ended(
    client, monkeypatch, customer, member, cm
):
    job_id = finished_job(customer, member, status="assigned")
    monkeypatch.setattr(jobs.events, "notify", losing(jobs.events.notify, times=2))

    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/cancel", json={"reason": "Duplicate"}, headers=cm.headers
    )

    assert response.status_code == 200, response.get_json()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == cm.user_id)
    ).all()
    assert [(e.endpoint, e.status_code) for e in entries] == [("jobs_staff.cancel_job", 200)]


def test_a_staff_action_that_keeps_losing_is_audited_once_as_busy(
    client, monkeypatch, customer, member, cm
):
    job_id = finished_job(customer, member, status="assigned")
    monkeypatch.setattr(jobs.events, "notify", losing(jobs.events.notify, times=99))

    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/cancel", json={"reason": "Duplicate"}, headers=cm.headers
    )

    assert response.status_code == 503
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "assigned"
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == cm.user_id)
    ).all()
    assert [e.status_code for e in entries] == [503]


def test_a_race_lost_at_commit_runs_the_request_again(client, monkeypatch, customer, member):
    job_id = finished_job(customer, member)
    RUNS["commit"] = 0

    def lose_first_commit(session):
        RUNS["commit"] += 1
        if RUNS["commit"] == 1:
            raise OperationalError("COMMIT", {}, psycopg.errors.DeadlockDetected("lost a race"))

    event.listen(Session, "before_commit", lose_first_commit)
    try:
        response = _review(client, customer, job_id)
    finally:
        event.remove(Session, "before_commit", lose_first_commit)

    assert response.status_code == 201, response.get_json()
    assert _count(Review, Review.job_id == job_id) == 1


def test_a_database_that_is_gone_is_not_contention(client, monkeypatch, customer, member):
    job_id = finished_job(customer, member)
    RUNS["view"] = 0

    def unreachable(*args, **kwargs):
        RUNS["view"] += 1
        raise OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating"))

    monkeypatch.setattr(jobs.reviews, "enqueue", unreachable)

    response = _review(client, customer, job_id)

    assert response.status_code == 503
    assert response.get_json()["type"] == "https://crowd.example/problems/service-unavailable"
    assert "not reachable" in response.get_json()["detail"]
    assert RUNS["view"] == 1


# --- tasks ------------------------------------------------------------------------------------


@task("test.contended_offer_count")
def _contended_offer_count(member_id: int, lose: int) -> None:
    from members.service import record_offers_received

    RUNS["task"] = RUNS.get("task", 0) + 1
    record_offers_received([member_id])  # written, then lost with the race
    db.session.flush()
    if RUNS["task"] <= lose:
        lose_a_race()


def _run_task(app, member, lose: int) -> OutboxMessage:
    from tests.crowd.test_background import _drain_if_redis

    RUNS["task"] = 0
    message = enqueue("test.contended_offer_count", member_id=member.profile_id, lose=lose)
    commit()
    _drain_if_redis(app)
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


def _offers(member) -> int:
    db.session.expire_all()
    stats = db.session.get(MemberStats, member.profile_id)
    return stats.offers_received if stats else 0


def test_a_task_that_lost_a_race_runs_again_and_has_its_effect_once(app, member):
    message = _run_task(app, member, lose=1)

    assert RUNS["task"] == 2
    assert message.status == "done" and message.attempts == 1
    assert _offers(member) == 1


def test_a_task_that_keeps_losing_is_a_failed_attempt_retried_later(app, member):
    message = _run_task(app, member, lose=99)

    assert RUNS["task"] == unit_of_work.CONTENTION_ATTEMPTS
    assert message.status == "pending" and message.attempts == 1
    assert "lost a race" in message.last_error
    assert _offers(member) == 0
