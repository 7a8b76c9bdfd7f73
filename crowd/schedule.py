"""Every periodic job, in one place: what runs and how often."""

from crowd.core.background import Periodic

PERIODIC = (
    # Safety net of the outbox: work whose hand-over to Redis failed, or was scheduled for later.
    Periodic("relay-outbox", "core.relay_outbox", every_seconds=15),
    Periodic("purge-idempotency", "core.purge_idempotency", every_seconds=3600),
)
