"""Background job of the top-performer programme: the daily check for a new period."""

from __future__ import annotations

from crowd.core.background import task
from crowd.core.db import commit
from crowd.core.errors import Conflict
from mentoring.top_performers.runs import period_due, run_period


@task("mentoring.run_top_performers")
def run_top_performers() -> str | None:
    """Run the latest ended period's evaluation if it has not run yet (daily; idempotent).

    The current period is never evaluated here: it has not ended.

    Returns the period evaluated, or None when it had been already."""
    period = period_due()
    if period is None:
        return None
    try:
        run_period(actor=None, period=period)
    except Conflict:
        return None  # another worker ran it meanwhile
    commit()
    return period
