"""The outbox: work is recorded with the data, survives a failed hand-over, and runs once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core import background
from crowd.core.background import OutboxMessage, enqueue, relay_outbox, run_message, task
from crowd.core.db import commit, utcnow
from members.models import MemberStats
from tests.conftest import TEST_REDIS_URL

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@task("test.count_offer")
def _count_offer(member_id: int) -> None:
    from members.service import record_offers_received

    record_offers_received([member_id])


@task("test.explode")
def _explode(member_id: int) -> None:
    raise RuntimeError("task failed on purpose")


def _offers(db_session, member_id):
    db_session.expire_all()
    return db_session.get(MemberStats, member_id).offers_received


def _message(db_session, message_id):
    db_session.expire_all()
    return db_session.get(OutboxMessage, message_id)


def _use_redis(app, monkeypatch, url):
    settings = app.config["CROWD_SETTINGS"].model_copy(update=dict(redis_url=url or None))
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)


def _drain(app):
    """Run what is queued in Redis with a real RQ worker, in this process."""
    from rq import Queue, SimpleWorker

    connection = background.redis_connection()
    queue = Queue(app.config["CROWD_SETTINGS"].rq_queue, connection=connection)
    SimpleWorker([queue], connection=connection).work(burst=True)


def _drain_if_redis(app):
    if not app.config["CROWD_SETTINGS"].inline_background:
        _drain(app)


def test_work_runs_after_commit(app, db_session, member):
    message = enqueue("test.count_offer", member_id=member.profile_id)
    commit()
    _drain_if_redis(app)
    assert _offers(db_session, member.profile_id) == 1
    assert _message(db_session, message.id).status == "done"


def test_rolled_back_work_never_runs(app, db_session, member):
    enqueue("test.count_offer", member_id=member.profile_id)
    db_session.rollback()
    background.discard_uncommitted()
    commit()
    _drain_if_redis(app)
    assert _offers(db_session, member.profile_id) == 0
    assert (
        db_session.scalar(select(OutboxMessage).where(OutboxMessage.task == "test.count_offer"))
        is None
    )


def test_failed_enqueue_keeps_the_work_and_the_relay_delivers_it(
    app, db_session, member, monkeypatch
):
    _use_redis(app, monkeypatch, UNREACHABLE_REDIS)
    message = enqueue("test.count_offer", member_id=member.profile_id)
    commit()  # the hand-over to Redis fails; the commit and the work record stand
    assert _message(db_session, message.id).status == "pending"
    assert _offers(db_session, member.profile_id) == 0

    # Redis comes back (or, on the embedded default, work runs inline): the relay delivers.
    _use_redis(app, monkeypatch, TEST_REDIS_URL)
    assert relay_outbox() >= 1
    _drain_if_redis(app)
    assert _message(db_session, message.id).status == "done"
    assert _offers(db_session, member.profile_id) == 1


def test_delivering_twice_has_one_effect(app, db_session, member, monkeypatch):
    _use_redis(app, monkeypatch, UNREACHABLE_REDIS)
    message = enqueue("test.count_offer", member_id=member.profile_id)
    commit()
    assert run_message(message.id) == "done"
    assert run_message(message.id) == "skipped"
    assert _offers(db_session, member.profile_id) == 1


def test_failing_task_is_retried_later_then_given_up(app, db_session, member, monkeypatch):
    _use_redis(app, monkeypatch, UNREACHABLE_REDIS)
    message = enqueue("test.explode", member_id=member.profile_id)
    commit()
    assert run_message(message.id) == "error"
    failed = _message(db_session, message.id)
    assert failed.status == "pending" and failed.attempts == 1
    assert "task failed on purpose" in failed.last_error
    assert failed.run_after > utcnow()
    for _ in range(background.MAX_ATTEMPTS):
        run_message(message.id)
    given_up = _message(db_session, message.id)
    assert given_up.status == "failed"
    assert given_up.attempts == background.MAX_ATTEMPTS


def test_scheduled_work_waits_until_due(app, db_session, member, monkeypatch):
    message = enqueue("test.count_offer", member_id=member.profile_id, delay=timedelta(hours=1))
    commit()
    _drain_if_redis(app)
    relay_outbox()
    _drain_if_redis(app)
    assert _message(db_session, message.id).status == "pending"
    assert _offers(db_session, member.profile_id) == 0

    stored = _message(db_session, message.id)
    stored.run_after = utcnow() - timedelta(seconds=1)
    db_session.commit()
    relay_outbox()
    _drain_if_redis(app)
    assert _message(db_session, message.id).status == "done"
    assert _offers(db_session, member.profile_id) == 1


def test_dedupe_key_refuses_a_second_copy(app, db_session, member):
    from sqlalchemy.exc import IntegrityError

    enqueue("test.count_offer", member_id=member.profile_id, dedupe_key="offer-1")
    commit()
    enqueue("test.count_offer", member_id=member.profile_id, dedupe_key="offer-1")
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    background.discard_uncommitted()


def test_unknown_task_is_refused():
    with pytest.raises(KeyError):
        enqueue("no.such.task")


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis (CROWD_TEST_REDIS_URL)")
def test_with_redis_work_goes_through_rq(app, db_session, member):
    from rq import Queue

    message = enqueue("test.count_offer", member_id=member.profile_id)
    commit()
    assert _message(db_session, message.id).status == "enqueued"
    queue = Queue(app.config["CROWD_SETTINGS"].rq_queue, connection=background.redis_connection())
    assert background.rq_job_id(message.id) in queue.job_ids
    assert _offers(db_session, member.profile_id) == 0
    _drain(app)
    assert _message(db_session, message.id).status == "done"
    assert _offers(db_session, member.profile_id) == 1


def test_every_periodic_job_names_a_registered_task(app):
    from crowd.core.background import TASKS
    from crowd.schedule import PERIODIC

    assert PERIODIC, "nothing scheduled"
    for periodic in PERIODIC:
        assert periodic.task in TASKS, f"{periodic.name} runs unknown task {periodic.task}"
        assert periodic.every_seconds >= 5


def test_periodic_jobs_run_inline(app, db_session):
    from crowd.core.background import run_due_periodic

    ran = run_due_periodic({})
    assert "relay-outbox" in ran
    assert run_due_periodic({name: utcnow() for name in ran}) == []
