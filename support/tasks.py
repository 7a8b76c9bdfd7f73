"""Background jobs of support mediation: SLA checks, auto-close, resolution deadlines.

Each is periodic (crowd.schedule), idempotent and safe to run concurrently: it locks the rows
it changes, skipping those another worker holds.
"""

from crowd.core.background import task
from support import resolutions, sla


@task("support.check_sla")
def check_sla() -> dict:
    """Mark SLA breaches once each, escalate those tickets and tell assignee, admins and the
    CMs responsible for tickets; warn them of deadlines about to pass."""
    counts = sla.check_sla()
    counts["due_soon"] = sla.warn_due_soon()
    return counts


@task("support.close_resolved")
def close_resolved() -> int:
    """Close resolved tickets past their auto-close time; the parties are asked to rate."""
    return sla.close_resolved()


# --- resolutions (helper E appends its tasks below this line) ---------------------------------


@task(resolutions.DEADLINE_TASK)
def apply_due_resolutions(resolution_id: int | None = None) -> int:
    """Apply the proposals nobody rejected by their deadline — the default outcome. Queued for
    each proposal's respond_by (`resolution_id`), and periodic as the safety net."""
    return resolutions.apply_due_resolutions(resolution_id=resolution_id)
