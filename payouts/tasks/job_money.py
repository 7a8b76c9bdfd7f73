"""Background jobs of a job's payment: authorise, capture and settle, release, refund, sweep.

Each takes ids, locks the job's payment row and is idempotent: the provider calls carry keys
derived from our ids and the ledger postings keys derived from the job, so running one twice,
or again after it died half-way, has its effect once (see payouts.job_money).
"""

from crowd.core.background import task
from payouts import job_money
from payouts.job_money import reauthorise
from payouts.job_money.payments import REAUTHORIZE_TASK, REFRESH_TASK, RELEASE_TASK


@task(job_money.AUTHORIZE_TASK)
def authorize_job_payment(job_id: int) -> str:
    """Authorise the job's price on the customer's saved payment method."""
    return job_money.authorize(job_id)


@task(job_money.CAPTURE_TASK)
def capture_job_payment(job_id: int) -> str:
    """Capture a confirmed job's payment and post the charge, commission and earning."""
    return job_money.capture(job_id)


@task(job_money.CANCEL_TASK)
def cancel_job_payment(job_id: int) -> str:
    """Release a cancelled job's authorisation, or capture and post its late fee."""
    return job_money.cancel(job_id)


@task(job_money.REFUND_TASK)
def refund_job_payment(refund_id: int) -> str:
    """Make a requested refund at the provider and post its reversal of the split."""
    return job_money.execute_refund(refund_id)


@task("payouts.sweep_job_payments")
def sweep_job_payments() -> dict:
    """Periodic safety net: queue again authorisations, captures, releases, refunds left undone."""
    return job_money.sweep()


@task(REAUTHORIZE_TASK)
def reauthorize_job_payment(job_id: int) -> str:
    """Renew the job's hold before it lapses: a new authorisation, then the old one released."""
    return reauthorise.reauthorize(job_id)


@task(RELEASE_TASK)
def release_superseded_payment(job_id: int) -> str:
    """Release the previous hold of a job whose current one is authorised (or cancelled)."""
    return reauthorise.release_superseded(job_id)


@task(REFRESH_TASK)
def refresh_job_payment(job_id: int) -> str:
    """Look at an intent waiting for the customer's authentication and record its outcome."""
    return reauthorise.refresh(job_id)


@task("payouts.renew_job_authorisations")
def renew_job_authorisations() -> int:
    """Periodic: queue the renewal of every hold that would lapse before its job's capture."""
    return reauthorise.queue_renewals()
