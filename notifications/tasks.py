"""Background jobs: writing inbox entries queued by earlier releases."""

from crowd.core.background import task
from notifications import addressed  # noqa: F401  (registers notifications.email_address)
from notifications.service import notify_many


@task("notifications.deliver")
def deliver(*, user_id: int, kind: str, title: str, body: str, data: dict, key: str) -> None:
    """Write one inbox entry; a re-run for the same event (same `key`) writes nothing.

    notify() now writes in the caller's transaction and queues nothing; this task stays
    registered so that outbox messages written by earlier releases (still pending or enqueued
    when the upgrade is deployed) run as before.
    """
    notify_many(kind, title, body, recipients=[(user_id, key, data)])
