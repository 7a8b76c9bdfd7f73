"""Fire requests at the same moment, each on its own client, connection and session.

The race tests (tests/*/test_*races.py, committing) run on both databases: on PostgreSQL the
row locks of crowd.core.locking decide who goes first, on the embedded SQLite the write lock
every writing unit of work takes when it begins (one writer at a time; the others wait).
The few that are about PostgreSQL's row locks themselves say so and need `on_postgres`.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import has_app_context

from crowd.core.db import db, writing_unit


def run_concurrently(app, count, request_fn):
    """Call request_fn(client, i) from `count` threads released together; return the results.

    The caller's own transaction ends first: what it set up is committed for the threads to
    see, and what it reads afterwards is read anew. (On SQLite a transaction reads one
    snapshot, taken at its first read, to its end: a test that had read before would not see
    what the threads did.)
    """
    if has_app_context():
        db.session.commit()
    barrier = threading.Barrier(count)
    results = [None] * count
    errors: list[BaseException] = []

    def worker(i):
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = request_fn(client, i)
        except BaseException as error:  # raised in the test's thread below, not lost
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@contextmanager
def task_unit(app) -> Iterator[None]:
    """A unit of work outside a request, opened the way the task runner opens one
    (crowd.core.background): on SQLite its transaction takes the write lock when it begins, as
    a task's does; on PostgreSQL it is a plain transaction. For a thread that calls a service
    and commits, as a task would."""
    with app.app_context(), writing_unit():
        yield
