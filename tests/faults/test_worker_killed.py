"""A worker killed in the middle of a task: the write it had pending is gone, the message runs
again, and its effect happens exactly once."""

import os
import signal
from datetime import timedelta

import pytest
from psycopg import errors as pg_errors

from crowd.core import background
from crowd.core.background import OutboxMessage, enqueue, relay_outbox
from crowd.core.db import commit
from crowd.extensions import db
from members.models import MemberStats
from tests.faults.conftest import wait_for
from tests.faults.tasks import SLOW_COUNT, runs_key
from tests.jobs.conftest import active_member

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("background_on")]


def _message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def _offers_received(member_id: int) -> int:
    db.session.expire_all()
    return db.session.get(MemberStats, member_id).offers_received


def _backend_alive(outside, backend_pid: int) -> bool:
    row = outside.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend_pid,))
    return row.fetchone() is not None


def _start_held_task(redis, member_id: int) -> tuple[int, str]:
    """Enqueue the slow task, held open until the test lets go; returns (message id, hold key)."""
    hold_key = f"faults:hold:{member_id}"
    redis.set(hold_key, "1")
    message = enqueue(SLOW_COUNT, member_id=member_id, hold_key=hold_key)
    commit()  # handed to the private Redis, where the worker takes it
    return message.id, hold_key


def _first_run(redis, hold_key: str, workers) -> bytes:
    """What the held task's first run reported (the worker has to start up first)."""
    try:
        return wait_for(lambda: redis.lpop(runs_key(hold_key)), timeout=90, interval=0.2)
    except AssertionError:
        raise AssertionError("the task never ran:\n" + workers.logs()) from None


@pytest.mark.parametrize(
    "killed",
    [
        "worker",  # the default worker runs jobs in its own process: it dies with the job
        "work horse",  # `--fork`: the job's own process dies; its worker lives on and notices
    ],
)
def test_a_worker_killed_mid_task_leaves_no_trace_and_the_task_runs_once_more(
    app, redis_server, workers, outside, monkeypatch, killed
):
    worker = workers.start("--fork") if killed == "work horse" else workers.start()
    member = active_member()
    redis = redis_server.client()
    message_id, hold_key = _start_held_task(redis, member.profile_id)

    # The task has counted the offer (not committed) and holds its transaction open.
    reported = _first_run(redis, hold_key, workers)
    runner_pid, backend_pid = map(int, reported.split())
    assert (runner_pid == worker.pid) is (killed == "worker")
    state = outside.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (backend_pid,))
    assert state.fetchone() == ("idle in transaction",)
    with pytest.raises(pg_errors.LockNotAvailable):  # the member's figures are being written
        outside.execute(
            "SELECT 1 FROM member_stats WHERE member_id = %s FOR UPDATE NOWAIT",
            (member.profile_id,),
        )

    os.kill(runner_pid, signal.SIGKILL)
    wait_for(lambda: not _backend_alive(outside, backend_pid), what="the backend to go")

    # Nothing of the attempt remains: not the count, not even the attempt counter.
    assert _offers_received(member.profile_id) == 0
    message = _message(message_id)
    assert (message.status, message.attempts) == ("enqueued", 0)

    # The next runs are not held. A dead worker's job still looks started in Redis: the relay
    # takes it back once it has been started longer than the grace (shortened here) and nobody
    # holds the message's row; a dead horse's job its worker marks failed, taken back at once.
    redis.delete(hold_key)
    monkeypatch.setattr(background, "STARTED_GRACE", timedelta(seconds=1))
    wait_for(relay_outbox, timeout=30, interval=0.5, what="the relay to take the message back")
    if killed == "worker":
        workers.start()
    wait_for(lambda: _message(message_id).status == "done", timeout=90, what="the second run")

    assert _offers_received(member.profile_id) == 1
    assert _message(message_id).attempts == 1
    assert redis.llen(runs_key(hold_key)) == 1  # the second run reported too: two runs, one effect
    # Later relays find nothing more to do.
    assert relay_outbox() == 0


def test_the_relay_leaves_a_slow_task_alone_while_its_worker_runs_it(
    app, redis_server, workers, monkeypatch
):
    workers.start()
    member = active_member()
    redis = redis_server.client()
    message_id, hold_key = _start_held_task(redis, member.profile_id)
    _first_run(redis, hold_key, workers)

    # Started long enough ago by the grace, but its worker holds the row: not lost.
    monkeypatch.setattr(background, "STARTED_GRACE", timedelta(0))
    assert relay_outbox() == 0
    assert _message(message_id).status == "enqueued"

    redis.delete(hold_key)
    wait_for(lambda: _message(message_id).status == "done", timeout=30, what="the task to finish")
    assert _offers_received(member.profile_id) == 1
    assert _message(message_id).attempts == 1
