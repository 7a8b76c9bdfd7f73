"""Background jobs of the jobs domain; each area registers its tasks in its own module."""

from jobs.tasks import dispatch, lifecycle, reviews  # noqa: F401  (registration by import)
