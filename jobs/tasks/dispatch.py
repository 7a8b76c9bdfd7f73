"""Background jobs: dispatch waves and offer expiry (each idempotent; none commits)."""

from crowd.core.background import task
from jobs import dispatch


@task("jobs.dispatch_wave")
def dispatch_wave(job_id: int, after_wave: int | None = None) -> str:
    """Send the next wave of offers for a job, or escalate it; a no-op when not due.

    `after_wave` (set by expiry, declines and withdrawals) makes a duplicate run harmless:
    once the job has moved past that wave, nothing happens.
    """
    return dispatch.send_wave(job_id, after_wave=after_wave).outcome


@task("jobs.expire_offers_for_job")
def expire_offers_for_job(job_id: int, wave: int | None = None) -> int:
    """At a wave's expiry time: expire its overdue offers and start the next wave if idle.

    `wave` is informative (logs, the outbox); any overdue pending offer of the job expires.
    """
    return dispatch.expire_job_offers(job_id)


@task("jobs.expire_offers")
def expire_offers() -> int:
    """Periodic safety net: expire every overdue pending offer and move those jobs on."""
    return dispatch.expire_due_offers()
