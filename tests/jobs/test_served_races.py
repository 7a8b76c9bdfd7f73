"""Members accepting one job at the same moment over real HTTP, on a served app.

The issue's walk-through on `make run`: the app served by a threaded server (werkzeug, what
`flask run` uses), each accept on its own HTTP connection and server thread, so the whole
stack races — the unit of work, the retry on contention, the write lock SQLite takes when a
write request begins, the inline background work after the commit. The winner gets 200, every
other member the 409 `offer-taken` with the offer's state, never a 503, and the job has one
assignee. The served app is built like the one `flask run` serves (not in testing mode), on
the test database: the embedded SQLite file, or PostgreSQL (+ Redis) when the suite runs there.
"""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from crowd import create_app
from crowd.extensions import db
from jobs.models import Job, Offer
from tests.factories import make_actor
from tests.jobs.conftest import active_member
from tests.jobs.test_dispatch_races import _offered_job

pytestmark = pytest.mark.committing

ROUNDS = 5
OFFER_TAKEN = "https://crowd.example/problems/offer-taken"


@pytest.fixture(scope="module")
def served(app):
    """The app on the test database, served on 127.0.0.1 by a threaded server: its port."""
    settings = app.config["CROWD_SETTINGS"]
    served_app = create_app(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url or "",
            "RQ_QUEUE": settings.rq_queue,
            "STRIPE_API_KEY": "",
            "STRIPE_WEBHOOK_SECRET": "",
            "CROWD_FAST_HASHING": True,
            "RATE_LIMIT_OFFER_ACCEPT": "10000 per minute",
            "RATE_LIMIT_KEY_PREFIX": settings.rate_limit_key_prefix,
        }
    )
    assert not served_app.testing
    server = make_server("127.0.0.1", 0, served_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)
    with served_app.app_context():
        db.engine.dispose()


def _accept_all_at_once(port: int, offers: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """POST every offer's accept from its own thread and connection, released together."""
    # The test's own transaction ends first: what it reads afterwards is read anew (on SQLite a
    # transaction keeps the snapshot of its first read, and cannot write after others did).
    db.session.commit()
    barrier = threading.Barrier(len(offers))
    results: list[tuple[int, dict] | None] = [None] * len(offers)
    errors: list[BaseException] = []

    def accept(i: int) -> None:
        offer_id, headers = offers[i]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.connect()  # connected before the barrier: the requests leave together
            barrier.wait()
            connection.request(
                "POST",
                f"/api/v1/offers/{offer_id}/accept",
                headers={**headers, "Content-Length": "0"},
            )
            response = connection.getresponse()
            body = response.read()
            content_type = response.getheader("Content-Type", "")
            results[i] = response.status, (json.loads(body) if "json" in content_type else {})
            results[i][1]["_content_type"] = content_type
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(len(offers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def _race(app, port: int, crowd: int) -> None:
    customer = make_actor("customer")
    members = [active_member() for _ in range(crowd)]
    job_id, offer_ids = _offered_job(app, customer, members)

    results = _accept_all_at_once(
        port, [(offer_id, m.headers) for offer_id, m in zip(offer_ids, members, strict=True)]
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (crowd - 1), results
    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    for status, body in results:
        if status == 409:
            assert body["_content_type"] == "application/problem+json", body
            assert (body["type"], body["state"]) == (OFFER_TAKEN, "withdrawn"), body
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.assigned_member_id) == ("assigned", members[winner].profile_id)
        accepted = db.session.scalar(
            select(func.count()).where(Offer.job_id == job_id, Offer.status == "accepted")
        )
        assert accepted == 1


def test_two_members_accepting_at_once_over_http_get_200_and_409(app, served):
    for _ in range(ROUNDS):
        _race(app, served, crowd=2)


def test_ten_members_accepting_at_once_over_http_leave_one_assignee(app, served):
    for _ in range(ROUNDS):
        _race(app, served, crowd=10)
