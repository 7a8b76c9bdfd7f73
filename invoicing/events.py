"""What invoicing does when money moves: queue the documents (made after the commit by the
task `invoicing.issue`, see invoicing.issuing)."""

from __future__ import annotations

from crowd.core.background import enqueue
from crowd.core.events import Event, subscribe

ISSUE_TASK = "invoicing.issue"


@subscribe("payment.settled")
def issue_for_settlement(event: Event) -> None:
    """A job's price or late fee was split in the ledger: its invoice and the member's side."""
    enqueue(ISSUE_TASK, source="settlement", source_id=event.payload["transaction_id"])


@subscribe("payment.refunded")
def issue_for_refund(event: Event) -> None:
    """A refund was posted: the corrections of the job's documents."""
    enqueue(ISSUE_TASK, source="refund", source_id=event.payload["refund_id"])


@subscribe("fee.billed")
def issue_for_fee(event: Event) -> None:
    """A monthly flat fee was posted: the platform's invoice to the member (or company)."""
    enqueue(ISSUE_TASK, source="monthly_fee", source_id=event.payload["fee_id"])
