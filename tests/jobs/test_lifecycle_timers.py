"""Timed transitions: auto-confirm, close, reminders and the sweep — idempotent, restart-safe."""

from datetime import timedelta

from sqlalchemy import func, select

from crowd.core.background import OutboxMessage, relay_outbox
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs import timers
from jobs.models import Job, JobEvent
from jobs.tasks import lifecycle as tasks
from tests.jobs.conftest import (
    active_member,
    drain_background,
    force_job_state,
    notifications_for,
    post_job_via_api,
)


def _job(client, customer) -> int:
    response = post_job_via_api(client, customer)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _assigned(job_id, member, *, starts_in: timedelta) -> Job:
    start = (utcnow() + starts_in).replace(microsecond=0)
    return force_job_state(
        job_id,
        status="assigned",
        assigned_member_id=member.profile_id,
        assigned_at=utcnow(),
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
    )


def _completed(job_id, member, *, ago: timedelta) -> Job:
    _assigned(job_id, member, starts_in=-ago - timedelta(hours=2))
    done = utcnow() - ago
    return force_job_state(job_id, status="completed", completed_at=done, status_changed_at=done)


def _run(app, task, **kwargs):
    """Run a task function as a worker would: its unit of work committed, follow-ups drained."""
    result = task(**kwargs)
    commit()
    drain_background(app)
    db.session.expire_all()
    return result


def _events(job_id, action):
    query = select(func.count()).where(JobEvent.job_id == job_id, JobEvent.action == action)
    return db.session.scalar(query)


def _messages(task_name):
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.task == task_name).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


# --- auto-confirm -------------------------------------------------------------------------


def test_auto_confirm_confirms_a_job_completed_long_enough_ago(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    _completed(job_id, member, ago=timedelta(hours=73))
    assert _run(app, tasks.auto_confirm, job_id=job_id) is True
    job = db.session.get(Job, job_id)
    assert job.status == "confirmed" and job.confirmed_at is not None
    event = db.session.scalar(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "confirm")
    )
    assert (event.actor, event.actor_user_id, event.from_status) == ("system", None, "completed")
    assert len(notifications_for(customer.user_id, "job.confirmed")) == 1
    assert len(notifications_for(member.user_id, "job.confirmed")) == 1
    # The close is scheduled in turn.
    [close] = _messages("jobs.close")
    assert close.run_after == job.status_changed_at + timedelta(days=14)


def test_auto_confirm_run_twice_has_one_effect(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    _completed(job_id, member, ago=timedelta(days=4))
    assert _run(app, tasks.auto_confirm, job_id=job_id) is True
    assert _run(app, tasks.auto_confirm, job_id=job_id) is False
    assert db.session.get(Job, job_id).status == "confirmed"
    assert _events(job_id, "confirm") == 1
    assert len(notifications_for(member.user_id, "job.confirmed")) == 1
    assert len(_messages("jobs.close")) == 1


def test_auto_confirm_waits_for_the_period(app, client, customer):
    job_id = _job(client, customer)
    _completed(job_id, active_member(), ago=timedelta(hours=71))
    assert _run(app, tasks.auto_confirm, job_id=job_id) is False
    assert db.session.get(Job, job_id).status == "completed"


def test_auto_confirm_period_is_configurable(app, client, customer, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_AUTO_CONFIRM_HOURS", 1)
    job_id = _job(client, customer)
    _completed(job_id, active_member(), ago=timedelta(hours=2))
    assert _run(app, tasks.auto_confirm, job_id=job_id) is True


def test_auto_confirm_leaves_a_confirmed_or_disputed_job_alone(app, client, customer):
    for status in ("confirmed", "disputed"):
        job_id = _job(client, customer)
        _completed(job_id, active_member(), ago=timedelta(days=5))
        force_job_state(job_id, status=status)
        assert _run(app, tasks.auto_confirm, job_id=job_id) is False
        assert db.session.get(Job, job_id).status == status
        assert _events(job_id, "confirm") == 0


def test_auto_confirm_of_a_missing_job_does_nothing(app):
    assert _run(app, tasks.auto_confirm, job_id=999999) is False


def test_completion_schedules_the_auto_confirm_once(app, client, customer):
    job_id = _job(client, customer)
    job = _completed(job_id, active_member(), ago=timedelta(minutes=5))
    timers.schedule_after_completion(job)
    timers.schedule_after_completion(job)
    commit()
    [message] = _messages("jobs.auto_confirm")
    assert message.kwargs == {"job_id": job_id}
    assert message.run_after == job.completed_at + timedelta(hours=72)


def test_scheduled_auto_confirm_survives_a_restart_and_runs_when_due(app, client, customer):
    """The timer is a row in the database: nothing in memory or Redis has to survive."""
    job_id = _job(client, customer)
    job = _completed(job_id, active_member(), ago=timedelta(minutes=5))
    timers.schedule_after_completion(job)
    commit()
    drain_background(app)  # not due: nothing happens
    [message] = _messages("jobs.auto_confirm")
    assert message.status == "pending"
    assert db.session.get(Job, job_id).status == "completed"

    # Three days pass (a restart in between changes nothing: the message is in the table).
    force_job_state(job_id, completed_at=utcnow() - timedelta(hours=73))
    message.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert relay_outbox() >= 1
    drain_background(app)
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "confirmed"
    assert _messages("jobs.auto_confirm")[0].status == "done"


# --- close --------------------------------------------------------------------------------


def test_close_closes_a_job_confirmed_long_enough_ago(app, client, customer):
    job_id = _job(client, customer)
    _completed(job_id, active_member(), ago=timedelta(days=20))
    force_job_state(job_id, status="confirmed", status_changed_at=utcnow() - timedelta(days=15))
    assert _run(app, tasks.close, job_id=job_id) is True
    job = db.session.get(Job, job_id)
    assert job.status == "closed" and job.closed_at is not None
    assert _run(app, tasks.close, job_id=job_id) is False
    assert _events(job_id, "close") == 1


def test_close_leaves_recent_or_disputed_jobs_alone(app, client, customer):
    recent = _job(client, customer)
    _completed(recent, active_member(), ago=timedelta(days=5))
    force_job_state(recent, status="confirmed", status_changed_at=utcnow() - timedelta(days=2))
    disputed = _job(client, customer)
    _completed(disputed, active_member(), ago=timedelta(days=30))
    force_job_state(disputed, status="disputed", status_changed_at=utcnow() - timedelta(days=20))
    assert _run(app, tasks.close, job_id=recent) is False
    assert _run(app, tasks.close, job_id=disputed) is False
    assert db.session.get(Job, recent).status == "confirmed"
    assert db.session.get(Job, disputed).status == "disputed"


# --- reminders ----------------------------------------------------------------------------


def test_assignment_schedules_one_reminder_a_day_ahead(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    job = _assigned(job_id, member, starts_in=timedelta(days=3))
    timers.schedule_after_assignment(job)
    timers.schedule_after_assignment(job)
    commit()
    [message] = _messages("jobs.remind")
    assert message.kwargs == {"job_id": job_id, "kind": "upcoming"}
    assert message.run_after == job.scheduled_start - timedelta(hours=24)
    assert message.status == "pending"


def test_assignment_starting_within_a_day_gets_no_reminder(app, client, customer):
    job_id = _job(client, customer)
    job = _assigned(job_id, active_member(), starts_in=timedelta(hours=5))
    timers.schedule_after_assignment(job)
    commit()
    assert _messages("jobs.remind") == []


def test_reassignment_schedules_a_reminder_for_the_new_member(app, client, customer):
    job_id = _job(client, customer)
    timers.schedule_after_assignment(
        _assigned(job_id, active_member(), starts_in=timedelta(days=3))
    )
    timers.schedule_after_assignment(
        _assigned(job_id, active_member(), starts_in=timedelta(days=4))
    )
    commit()
    assert len(_messages("jobs.remind")) == 2


def test_reminder_tells_member_and_customer_once(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    _assigned(job_id, member, starts_in=timedelta(hours=23))
    assert _run(app, tasks.remind, job_id=job_id, kind="upcoming") is True
    assert _run(app, tasks.remind, job_id=job_id, kind="upcoming") is True
    [for_member] = notifications_for(member.user_id, "job.reminder")
    [for_customer] = notifications_for(customer.user_id, "job.reminder")
    assert for_member.data["job_id"] == for_customer.data["job_id"] == job_id


def test_reminder_for_a_job_no_longer_assigned_does_nothing(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    _assigned(job_id, member, starts_in=timedelta(hours=23))
    force_job_state(job_id, status="cancelled")
    assert _run(app, tasks.remind, job_id=job_id, kind="upcoming") is False
    assert notifications_for(member.user_id, "job.reminder") == []


def test_stale_reminder_of_an_earlier_schedule_does_nothing(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    _assigned(job_id, member, starts_in=timedelta(days=3))  # re-dispatched to a later start
    assert _run(app, tasks.remind, job_id=job_id, kind="upcoming") is False
    assert notifications_for(member.user_id, "job.reminder") == []


def test_reminder_is_delivered_by_the_relay_when_due(app, client, customer):
    job_id = _job(client, customer)
    member = active_member()
    job = _assigned(job_id, member, starts_in=timedelta(days=2))
    timers.schedule_after_assignment(job)
    commit()
    drain_background(app)
    assert notifications_for(member.user_id, "job.reminder") == []
    # A day passes.
    start = (utcnow() + timedelta(hours=23)).replace(microsecond=0)
    force_job_state(job_id, scheduled_start=start)
    [message] = _messages("jobs.remind")
    message.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    drain_background(app)
    assert len(notifications_for(member.user_id, "job.reminder")) == 1


# --- the sweep ----------------------------------------------------------------------------


def test_sweep_confirms_and_closes_every_overdue_job(app, client, customer):
    member = active_member()
    overdue = [_job(client, customer) for _ in range(2)]
    for job_id in overdue:
        _completed(job_id, member, ago=timedelta(hours=80))
    fresh = _job(client, customer)
    _completed(fresh, member, ago=timedelta(hours=10))
    closable = _job(client, customer)
    _completed(closable, member, ago=timedelta(days=30))
    force_job_state(closable, status="confirmed", status_changed_at=utcnow() - timedelta(days=15))
    still_open = _job(client, customer)

    assert _run(app, tasks.sweep_lifecycle) == {"confirmed": 2, "closed": 1}
    statuses = {job_id: db.session.get(Job, job_id).status for job_id in [*overdue, fresh]}
    assert statuses == {overdue[0]: "confirmed", overdue[1]: "confirmed", fresh: "completed"}
    assert db.session.get(Job, closable).status == "closed"
    assert db.session.get(Job, still_open).status in ("open", "offered")
    # A second sweep finds nothing left to do.
    assert _run(app, tasks.sweep_lifecycle) == {"confirmed": 0, "closed": 0}


def test_sweep_task_is_registered_for_the_scheduler():
    from crowd.core.background import TASKS

    for name in ("jobs.auto_confirm", "jobs.close", "jobs.remind", "jobs.sweep_lifecycle"):
        assert name in TASKS
