"""Every periodic job, in one place: what runs and how often."""

from crowd.core.background import Periodic

PERIODIC = (
    # Safety net of the outbox: work whose hand-over to Redis failed, or was scheduled for later.
    Periodic("relay-outbox", "core.relay_outbox", every_seconds=15),
    Periodic("purge-idempotency", "core.purge_idempotency", every_seconds=3600),
    # Offers past their expiry, and the next wave for their jobs.
    Periodic("expire-offers", "jobs.expire_offers", every_seconds=30),
    # Safety nets behind the per-job timers (auto-confirm, close, review publication).
    Periodic("sweep-lifecycle", "jobs.sweep_lifecycle", every_seconds=300),
    Periodic("publish-due-reviews", "jobs.publish_due_reviews", every_seconds=600),
    # Webhook events whose handler failed are retried (the event itself is stored once).
    Periodic("retry-webhook-events", "payouts.retry_webhook_events", every_seconds=300),
)
