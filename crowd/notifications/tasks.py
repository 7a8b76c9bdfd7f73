"""Background jobs: writing inbox entries."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crowd.core.background import task
from crowd.extensions import db
from crowd.notifications.models import Notification


@task("notifications.deliver")
def deliver(*, user_id: int, kind: str, title: str, body: str, data: dict, key: str) -> None:
    """Write one inbox entry; a re-run for the same event (same `key`) writes nothing."""
    exists = db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key))
    if exists is not None:
        return
    try:
        # A concurrent delivery of the same event may commit first: its row is the one we want.
        with db.session.begin_nested():
            db.session.add(
                Notification(
                    user_id=user_id, kind=kind, title=title, body=body, data=data, dedupe_key=key
                )
            )
    except IntegrityError:
        pass
