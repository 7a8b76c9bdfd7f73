"""`demo.seed` with history: six months of jobs replayed through the services, consistent
money, non-trivial crowd-health figures, and a second run that adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

import demo
from jobs.models import Job, JobEvent, Review
from onboarding.models import LevelChange
from payouts.models import LedgerEntry, Payout
from support.models import Resolution, Ticket

MEMBERS, CUSTOMERS = 120, 20


def _count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_history_is_consistent_and_feeds_the_dashboards(db_session, client, admin):
    said: list[str] = []
    demo.seed(members=MEMBERS, customers=CUSTOMERS, seed=11, echo=said.append)

    states = set(db_session.scalars(select(Job.status)))
    assert {"closed", "confirmed", "cancelled", "assigned"} <= states, states
    jobs = _count(db_session, Job)
    assert jobs > 50 and f"history: {jobs} jobs" in "\n".join(said)
    # Backdated: the jobs spread over the last six months, not over the seconds of the run.
    oldest, newest = db_session.execute(
        select(func.min(Job.created_at), func.max(Job.created_at))
    ).one()
    assert (newest - oldest).days > 100
    assert _count(db_session, JobEvent, JobEvent.action == "complete") > 30
    assert _count(db_session, Review, Review.published_at.is_not(None)) > 20
    assert _count(db_session, Ticket, Ticket.dispute.is_(True)) >= 1
    assert _count(db_session, Resolution, Resolution.status == "applied") >= 1
    assert _count(db_session, Payout, Payout.status == "paid") > 5
    assert _count(db_session, LevelChange) > 0
    # Every posting balances: the ledger as a whole sums to zero.
    assert db_session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) == 0

    health = client.get("/api/v1/crowd-health", headers=admin.headers)
    assert health.status_code == 200, health.get_json()
    figures = health.get_json()
    assert figures["activation"]["approved"] > 0
    assert figures["activation"]["activated"] > 0
    assert figures["active_members"]["working"] > 0
    assert figures["disputes"]["jobs_completed"] > 0
    programmes = client.get("/api/v1/programmes/health", headers=admin.headers)
    assert programmes.status_code == 200, programmes.get_json()

    again = demo.seed(members=MEMBERS, customers=CUSTOMERS, seed=11, echo=lambda *_: None)
    assert again.startswith("demo data already present")
    assert _count(db_session, Job) == jobs
