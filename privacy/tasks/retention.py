"""Background work of privacy: retention enforced daily (crowd.schedule)."""

from __future__ import annotations

from crowd.core.background import task
from privacy import enforcement

RETENTION_TASK = "privacy.enforce_retention"


@task(RETENTION_TASK)
def enforce_retention() -> dict:
    """Delete what the retention rules say is due (in batches, each committed; a rerun deletes
    nothing more) and log the run; returns {kind: count}."""
    return enforcement.enforce(cause="schedule").counts
