"""Redis goes away: the API keeps serving, the work waits in the outbox, and once Redis is back
it is delivered and has its effect exactly once."""

import pytest
from sqlalchemy import func, select

from crowd.core import background
from crowd.core.background import OutboxMessage, relay_outbox
from crowd.extensions import db
from jobs.dispatch import WAVE_TASK
from jobs.models import Offer
from members.models import MemberStats
from notifications.models import Notification
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, post_job_via_api

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("background_on")]


def _messages(task: str) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.task == task).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def _offers_received(member_id: int) -> int:
    db.session.expire_all()
    return db.session.get(MemberStats, member_id).offers_received


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_api_keeps_serving_without_redis_and_the_work_runs_once_when_it_returns(
    app, client, redis_server
):
    members = [active_member() for _ in range(3)]
    customer = make_actor("customer")
    redis_server.stop()

    posted = [post_job_via_api(client, customer) for _ in range(2)]
    assert [r.status_code for r in posted] == [201, 201], [r.get_json() for r in posted]
    listed = client.get("/api/v1/jobs", headers=customer.headers)
    assert listed.status_code == 200 and len(listed.get_json()["items"]) == 2
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {"database": "ok", "redis": "unreachable"}

    # The work is recorded and waits: nothing was handed over, nothing ran.
    waves = _messages(WAVE_TASK)
    assert [(m.status, m.attempts) for m in waves] == [("pending", 0)] * 2
    assert _count(Offer) == 0
    # The periodic relay cannot hand it over either, and loses nothing trying.
    assert relay_outbox() == 0
    assert [m.status for m in _messages(WAVE_TASK)] == ["pending"] * 2

    # Redis is back: the periodic relay hands the work over, an RQ worker runs it.
    redis_server.start()
    drain_background(app)

    assert [(m.status, m.attempts) for m in _messages(WAVE_TASK)] == [("done", 1)] * 2
    for member in members:
        assert _offers_received(member.profile_id) == 2
        assert _count(Offer, Offer.member_id == member.profile_id) == 2
        assert _count(Notification, Notification.user_id == member.user_id) == 2
    assert _count(Offer) == 6

    # Redis handing the same messages out again (a redelivery) changes nothing.
    assert background.deliver([m.id for m in _messages(WAVE_TASK)]) == 2
    drain_background(app)
    assert [m.attempts for m in _messages(WAVE_TASK)] == [1, 1]
    assert [_offers_received(m.profile_id) for m in members] == [2, 2, 2]
    assert _count(Offer) == 6


def test_work_redis_lost_in_a_restart_is_handed_over_again_and_runs_once(app, client, redis_server):
    member = active_member()
    customer = make_actor("customer")
    assert post_job_via_api(client, customer).status_code == 201
    [wave] = _messages(WAVE_TASK)
    assert wave.status == "enqueued"  # handed to Redis, not run yet: no worker

    redis_server.stop()
    redis_server.start()  # back, but empty: the queued job is gone

    # The relay sees that Redis no longer holds the job, and hands the message over again.
    drain_background(app)
    [wave] = _messages(WAVE_TASK)
    assert (wave.status, wave.attempts) == ("done", 1)
    assert _offers_received(member.profile_id) == 1
    assert _count(Notification, Notification.user_id == member.user_id) == 1
