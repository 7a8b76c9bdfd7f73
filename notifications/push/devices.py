"""Registering, listing and removing a user's devices; retiring dead tokens."""

from __future__ import annotations

from sqlalchemy import select, update

from crowd.core.auth import Principal
from crowd.core.db import is_postgres, utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from notifications.push.models import Device

# A user's active devices at most: registering one more retires the one seen least recently,
# so a client that re-installs the app over and over does not fan every push out endlessly.
MAX_ACTIVE_DEVICES = 10


def register_device(
    *,
    actor: Principal,
    platform: str,
    token: str,
    app_version: str,
    locale: str,
    name: str | None = None,
) -> Device:
    """Register the app's token for the caller: a new device, or the known token updated,
    active again and moved to the caller (a token belongs to one user at a time).

    One INSERT … ON CONFLICT (token) DO UPDATE: two registrations of the same token at once,
    by the same or different users, leave one row, owned by whoever wrote last."""
    if is_postgres():
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    values = {
        "user_id": actor.user_id,
        "platform": platform,
        "app_version": app_version,
        "locale": locale,
        "name": name,
        "last_seen_at": now,
        "retired_at": None,
        "retired_reason": None,
    }
    statement = insert(Device).values(token=token, created_at=now, **values)
    statement = statement.on_conflict_do_update(index_elements=["token"], set_=values)
    db.session.execute(statement)
    device = db.session.scalar(
        select(Device).where(Device.token == token).execution_options(populate_existing=True)
    )
    _retire_beyond_limit(actor.user_id)
    return device


def _retire_beyond_limit(user_id: int) -> None:
    surplus = db.session.scalars(
        select(Device.id)
        .where(Device.user_id == user_id, Device.retired_at.is_(None))
        .order_by(Device.last_seen_at.desc(), Device.id.desc())
        .offset(MAX_ACTIVE_DEVICES)
    ).all()
    if surplus:
        retire(surplus, "replaced")


def list_devices(*, actor: Principal) -> list[Device]:
    """The caller's devices, active and retired, most recently seen first."""
    return db.session.scalars(
        select(Device)
        .where(Device.user_id == actor.user_id)
        .order_by(Device.last_seen_at.desc(), Device.id.desc())
    ).all()


def delete_device(*, actor: Principal, device_id: int) -> None:
    """Forget one of the caller's devices (signing out of the app); another's is a 404."""
    device = db.session.scalar(
        select(Device).where(Device.id == device_id, Device.user_id == actor.user_id)
    )
    if device is None:
        raise NotFound(_("No such device."))
    db.session.delete(device)
    db.session.flush()


def active_devices(user_id: int) -> list[Device]:
    """The user's devices that pushes go to, oldest first."""
    return db.session.scalars(
        select(Device)
        .where(Device.user_id == user_id, Device.retired_at.is_(None))
        .order_by(Device.id)
    ).all()


def retire_all(user_id: int, reason: str) -> int:
    """Stop pushing to every device of the user (the account was closed); returns how many."""
    result = db.session.execute(
        update(Device)
        .where(Device.user_id == user_id, Device.retired_at.is_(None))
        .values(retired_at=utcnow(), retired_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def retire(device_ids: list[int], reason: str) -> None:
    """Stop pushing to these devices (a provider said their tokens are dead); a device
    re-registered meanwhile by the app is active again with its new registration."""
    db.session.execute(
        update(Device)
        .where(Device.id.in_(device_ids), Device.retired_at.is_(None))
        .values(retired_at=utcnow(), retired_reason=reason)
        .execution_options(synchronize_session=False)
    )
