"""Test-only background tasks for the fault tests, registered with the real `@task` machinery.

The pytest process imports this module to enqueue them; worker subprocesses load it through
tests/faults/worker_app.py.
"""

from __future__ import annotations

import os
import time

from crowd.core.background import redis_connection, task
from crowd.extensions import db
from members.service import record_offers_received

COUNT = "faults.count_offer"
SLOW_COUNT = "faults.count_offer_slowly"
# However long a test wants a task held open, it lets go after this (a test that died early
# must not leave a worker hanging for ever).
HOLD_LIMIT_SECONDS = 60


def runs_key(hold_key: str) -> str:
    """The Redis list where each run of a held task reports "<pid> <database backend pid>"."""
    return f"{hold_key}:runs"


@task(SLOW_COUNT)
def count_offer_slowly(member_id: int, hold_key: str) -> None:
    """Count an offer for the member — not idempotent: a second effect shows — then, while
    `hold_key` exists in Redis, keep the transaction open with the write pending."""
    record_offers_received([member_id])
    db.session.flush()
    backend_pid = db.session.connection().connection.dbapi_connection.info.backend_pid
    redis = redis_connection()
    redis.rpush(runs_key(hold_key), f"{os.getpid()} {backend_pid}")
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while redis.exists(hold_key) and time.monotonic() < deadline:
        time.sleep(0.05)


@task(COUNT)
def count_offer(member_id: int) -> None:
    """Count an offer for the member (not idempotent: a second effect shows)."""
    record_offers_received([member_id])
