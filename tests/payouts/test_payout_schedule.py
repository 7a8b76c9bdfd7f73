"""The scheduled payout run starts only when the last run is older than the interval."""

from datetime import timedelta

from sqlalchemy import func, select

from crowd.core.db import utcnow
from payouts.models import PayoutRun
from payouts.tasks.payout_run import run_payouts_if_due


def _runs(db_session):
    return db_session.scalar(select(func.count()).select_from(PayoutRun))


def test_first_scheduled_run_starts_and_a_second_waits_for_the_interval(app, db_session):
    assert _runs(db_session) == 0
    assert run_payouts_if_due() is not None
    db_session.flush()
    assert _runs(db_session) == 1
    assert run_payouts_if_due() is None
    assert _runs(db_session) == 1


def test_scheduled_run_starts_again_after_the_interval(app, db_session):
    run_payouts_if_due()
    db_session.flush()
    last = db_session.scalar(select(PayoutRun))
    last.created_at = utcnow() - timedelta(days=8)
    db_session.flush()
    assert run_payouts_if_due() is not None
    db_session.flush()
    assert _runs(db_session) == 2
