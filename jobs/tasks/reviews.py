"""Background jobs: publishing reviews whose blind period is over."""

from crowd.core.background import task
from jobs import reviews


@task("jobs.publish_reviews")
def publish_reviews(job_id: int) -> int:
    """Publish one job's hidden reviews if due (scheduled at the end of its blind period)."""
    return reviews.publish_reviews(job_id)


@task("jobs.publish_due_reviews")
def publish_due_reviews() -> int:
    """Publish every job's reviews whose blind period is over (periodic safety net)."""
    return reviews.publish_due_reviews()
