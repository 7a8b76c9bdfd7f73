"""Background work of invoicing: documents made after the money moved."""

from __future__ import annotations

from crowd.core.background import task
from invoicing import issuing
from invoicing.events import ISSUE_TASK

_MAKERS = {
    "settlement": issuing.for_settlement,
    "refund": issuing.for_refund,
    "monthly_fee": issuing.for_monthly_fee,
}


@task(ISSUE_TASK)
def issue(source: str, source_id: int) -> str:
    """Make the documents a movement of money calls for (each once: a rerun makes none)."""
    documents = _MAKERS[source](source_id)
    return ", ".join(document.number for document in documents) or "none"
