"""The database fails in the middle of a request: nothing of it is written, the caller gets a
clean problem response (503, no SQL, no stack), and the next request works.

The failures are real: the request's own PostgreSQL session is terminated with
pg_terminate_backend, from another connection, at a chosen moment (just before a statement,
or just before the COMMIT), through SQLAlchemy engine events.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from crowd.core.background import OutboxMessage
from crowd.core.idempotency import IdempotencyRecord
from crowd.extensions import db
from jobs.dispatch import WAVE_TASK
from jobs.models import Job, JobWindow
from tests.factories import make_actor
from tests.jobs.conftest import drain_background, post_job_via_api

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("on_postgres")]

# What must never reach a caller: SQL, driver names, Python internals.
LEAKS = ("INSERT", "SELECT", "COMMIT", "psycopg", "sqlalchemy", "Traceback", "terminating")


def _terminate(outside, backend_pid: int) -> None:
    """End that database session the way an administrator (or a crashing server) does."""
    row = outside.execute("SELECT pg_terminate_backend(%s, 5000)", (backend_pid,)).fetchone()
    assert row == (True,)


@contextmanager
def killed_before_statement(outside, starts_with: str):
    """Terminate the session that is about to run the first statement starting with
    `starts_with` (case-insensitive), so that statement meets a dead connection."""
    fired: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith(starts_with.upper()):
            fired.append(statement)
            _terminate(outside, cursor.connection.info.backend_pid)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def killed_before_commit(outside):
    """Terminate the session of the next transaction about to commit."""
    fired: list[int] = []

    def before_commit(conn):
        if not fired:
            pid = conn.connection.dbapi_connection.info.backend_pid
            fired.append(pid)
            _terminate(outside, pid)

    engine = db.engine
    event.listen(engine, "commit", before_commit)
    try:
        yield fired
    finally:
        event.remove(engine, "commit", before_commit)


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _nothing_written() -> None:
    assert _count(Job) == 0
    assert _count(JobWindow) == 0
    assert _count(OutboxMessage, OutboxMessage.task == WAVE_TASK) == 0
    assert _count(IdempotencyRecord) == 0


def _assert_clean_503(response) -> None:
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers.get("Retry-After")
    body = response.get_json()
    assert (body["status"], body["title"]) == (503, "Service unavailable")
    text = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak.lower() not in text.lower(), f"{leak!r} leaked: {text}"


def _post(client, customer, key: str):
    return post_job_via_api(client, customer, headers={"Idempotency-Key": key})


def test_connection_lost_after_rows_were_written_is_a_clean_503_and_nothing_stays(
    app, client, outside
):
    customer = make_actor("customer")
    # The job row is inserted; its windows meet a dead connection.
    with killed_before_statement(outside, "INSERT INTO job_windows") as fired:
        response = _post(client, customer, "post-1")
    assert fired, "the request never wrote its windows"
    _assert_clean_503(response)
    _nothing_written()

    # The pool recovers, and the caller's retry with the same key creates the job once.
    again = _post(client, customer, "post-1")
    assert again.status_code == 201, again.get_json()
    assert _post(client, customer, "post-1").headers.get("Idempotent-Replayed") == "true"
    assert _count(Job) == 1
    assert _count(JobWindow) == 1
    assert _count(OutboxMessage, OutboxMessage.task == WAVE_TASK) == 1


def test_connection_lost_at_commit_is_a_clean_503_and_nothing_stays(app, client, outside):
    customer = make_actor("customer")
    with killed_before_commit(outside) as fired:
        response = _post(client, customer, "post-2")
    assert fired, "the request never committed"
    _assert_clean_503(response)
    _nothing_written()

    again = _post(client, customer, "post-2")
    assert again.status_code == 201, again.get_json()
    assert _count(Job) == 1
    assert _count(OutboxMessage, OutboxMessage.task == WAVE_TASK) == 1


def test_after_the_database_dropped_every_connection_the_next_requests_work(app, client, outside):
    customer = make_actor("customer")
    assert client.get("/api/v1/jobs", headers=customer.headers).status_code == 200
    # As after a database restart: every session of the app's pool is gone.
    name = db.engine.url.database
    ended = outside.execute(
        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    ).fetchone()
    assert ended[0] >= 1

    # pool_pre_ping finds the dead connections and replaces them: no request fails.
    assert client.get("/api/v1/jobs", headers=customer.headers).status_code == 200
    assert _post(client, customer, "post-3").status_code == 201
    assert client.get("/readyz").get_json()["checks"]["database"] == "ok"


@pytest.mark.usefixtures("background_on")
def test_connection_lost_after_the_commit_does_not_turn_a_success_into_an_error(
    app, client, outside
):
    customer = make_actor("customer")
    # The job is committed and handed to Redis; marking its message `enqueued` then fails.
    with killed_before_statement(outside, "UPDATE outbox_messages") as fired:
        response = _post(client, customer, "post-4")
    assert fired, "the request never marked its work enqueued"
    assert response.status_code == 201, response.get_json()
    assert _count(Job) == 1
    [wave] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.task == WAVE_TASK))
    assert wave.status == "pending"  # it did reach Redis; the relay will offer it again: harmless

    drain_background(app)
    db.session.expire_all()
    assert (wave.status, wave.attempts) == ("done", 1)
