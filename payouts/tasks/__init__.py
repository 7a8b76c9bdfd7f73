"""Background jobs of the money domain; each area registers its tasks in its own module."""

from payouts.tasks import billing, job_money, payout_run  # noqa: F401  (registration by import)
