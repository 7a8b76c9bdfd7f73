"""Background jobs: payout runs (weekly) and the sending of their transfers."""

from datetime import timedelta

from sqlalchemy import func, select

from crowd.core.background import task
from crowd.core.db import utcnow
from crowd.extensions import db
from payouts import bank_payouts, payout_run
from payouts.config import payout_rules
from payouts.models import PayoutRun


@task("payouts.run_payouts")
def run_payouts(run_id: int | None = None) -> int | None:
    """Carry out a payout run (a new one without `run_id`); returns its id."""
    run = payout_run.run_payouts(run_id=run_id)
    return run.id if run is not None else None


@task("payouts.send_payouts")
def send_payouts(payout_ids: list[int]) -> dict[str, int]:
    """Make the provider transfers of these pending payouts (idempotent per payout)."""
    return payout_run.send_payouts(payout_ids)


# Weekly by default (the setting PAYOUT_INTERVAL_HOURS). The scheduler only says "maybe now":
# its memory of the last run is lost on restart, so the database decides whether one is due.


@task("payouts.run_payouts_if_due")
def run_payouts_if_due() -> int | None:
    """Start a payout run unless one was created within the payout interval."""
    hours = payout_rules().interval_hours
    last = db.session.scalar(select(func.max(PayoutRun.created_at)))
    if last is not None and utcnow() - last < timedelta(hours=hours):
        return None
    return run_payouts()


@task("payouts.reconcile_bank_payout")
def reconcile_bank_payout(bank_payout_id: int) -> dict:
    """Book which of our transfers a connected account's bank payout carried (idempotent)."""
    return bank_payouts.reconcile_bank_payout(bank_payout_id)


@task("payouts.reconcile_bank_payouts")
def reconcile_bank_payouts() -> dict[str, int]:
    """Safety net: reconcile bank payouts not read yet, link transfers that became known."""
    return bank_payouts.reconcile_waiting()
