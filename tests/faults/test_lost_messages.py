"""Messages left `enqueued` when there is no Redis any more (a deployment that dropped
REDIS_URL) are leftovers: the relay runs them inline, once."""

from crowd.core.background import OutboxMessage, relay_outbox
from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import MemberStats
from tests.faults.tasks import COUNT
from tests.jobs.conftest import active_member


def test_without_redis_messages_left_enqueued_run_inline_once(app, monkeypatch):
    inline = app.config["CROWD_SETTINGS"].model_copy(update=dict(redis_url=None))
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", inline)
    member = active_member()
    left = OutboxMessage(
        task=COUNT,
        kwargs={"member_id": member.profile_id},
        status="enqueued",
        run_after=utcnow(),
        enqueued_at=utcnow(),
    )
    db.session.add(left)
    db.session.commit()

    assert relay_outbox() == 1
    assert relay_outbox() == 0
    db.session.expire_all()
    assert (left.status, left.attempts) == ("done", 1)
    assert db.session.get(MemberStats, member.profile_id).offers_received == 1
