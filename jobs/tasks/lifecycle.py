"""Background jobs: timed lifecycle transitions (auto-confirm, close, reminders) and the sweep.

Each is idempotent: it re-reads the job and does nothing unless the job is still in the state
(and past the moment) the timer was set for. They are outbox messages in the database, so a
restart loses none; `jobs.sweep_lifecycle` (periodic) catches anything overdue regardless.
"""

from crowd.core.background import task
from jobs import service


@task("jobs.auto_confirm")
def auto_confirm(job_id: int) -> bool:
    """completed → confirmed by the system once auto_confirm_hours have passed."""
    return service.auto_confirm(job_id)


@task("jobs.close")
def close(job_id: int) -> bool:
    """confirmed → closed once close_after_days have passed."""
    return service.close_job(job_id)


@task("jobs.remind")
def remind(job_id: int, kind: str) -> bool:
    """Remind member and customer of an assigned job shortly before it starts."""
    return service.send_reminder(job_id, kind)


@task("jobs.sweep_lifecycle")
def sweep_lifecycle() -> dict:
    """Periodic safety net: auto-confirm and close every overdue job."""
    return service.sweep_lifecycle()
