"""Background jobs of segment messages: resolving the recipients and delivering each batch."""

from crowd.core.background import task
from mentoring.broadcasts import delivery, service


@task("mentoring.deliver_broadcast")
def deliver_broadcast(*, broadcast_id: int) -> int:
    """Freeze a broadcast's recipients (one INSERT … SELECT) and queue their batches."""
    return delivery.resolve_recipients(broadcast_id)


@task("mentoring.deliver_broadcast_batch")
def deliver_broadcast_batch(*, broadcast_id: int, first_member_id: int, last_member_id: int) -> int:
    """Deliver one batch (inbox + email outbox); running it twice delivers once."""
    return delivery.deliver_batch(
        broadcast_id=broadcast_id, first_member_id=first_member_id, last_member_id=last_member_id
    )


@task("mentoring.start_scheduled_broadcast")
def start_scheduled_broadcast(*, broadcast_id: int) -> int:
    """Start one scheduled broadcast at its time (nothing if unscheduled or moved later)."""
    return service.start_due(broadcast_id)


@task("mentoring.start_scheduled_broadcasts")
def start_scheduled_broadcasts() -> int:
    """Safety net (periodic): start every scheduled broadcast whose time has passed."""
    return service.start_due()
