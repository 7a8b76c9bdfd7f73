"""Alerts for community managers: what needs staff now, sent to the CMs responsible for it.

An alert belongs to a queue (ALERT_QUEUES: dispatch, payments, tickets, onboarding, community)
and, where it is about a place, a region (country and postcode). It goes to the active
community managers one of whose responsibilities (StaffResponsibility: queue and/or country
and/or postcode prefix, a null part matching anything) matches; when none does, to every
active CM; when there is no CM, to the admins — an alert always reaches someone.

Every alert lands in the recipients' inbox at once (notify_many, in the caller's unit of work,
one per event and recipient). Beyond the inbox each CM chooses a cadence
(StaffAlertSettings.digest): each alert by email at once, an hourly or daily digest, or none;
the delivery channels read it (`digest_of`). Alerts carry `alert_queue` in their data so the
digest can find them.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from accounts.models import (
    ALERT_DIGESTS,
    ALERT_QUEUES,
    StaffAlertSettings,
    StaffResponsibility,
    User,
)
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from notifications.service import notify_many

COUNTRIES = ("DE", "AT", "CH")
# Every kind of alert: each goes by email (notifications.channels) at the CM's cadence; the
# digest (accounts.alert_digests) gathers these kinds.
ALERT_KINDS = (
    "job.escalated",
    "support.chargeback_opened",
    "support.sla_due_soon",
    "support.sla_breached",
    "community.post_reported",
    "onboarding.check_waiting",
)
STAFF_ROLES = ("community_manager", "admin")


def _active(role: str):
    return select(User.id).where(User.role == role, User.disabled_at.is_(None)).order_by(User.id)


def responsible_staff(
    queue: str, *, country: str | None = None, postcode: str | None = None
) -> list[int]:
    """The users an alert of `queue` about (`country`, `postcode`) goes to (see the module)."""
    if queue not in ALERT_QUEUES:
        raise ValueError(f"unknown alert queue {queue!r}")
    matches = [
        or_(StaffResponsibility.queue.is_(None), StaffResponsibility.queue == queue),
        or_(StaffResponsibility.country.is_(None), StaffResponsibility.country == country),
    ]
    candidates = db.session.execute(
        select(StaffResponsibility.user_id, StaffResponsibility.postcode_prefix)
        .join(User, User.id == StaffResponsibility.user_id)
        .where(*matches, User.role == "community_manager", User.disabled_at.is_(None))
    ).all()
    responsible = sorted(
        {
            user_id
            for user_id, prefix in candidates
            if prefix is None or (postcode or "").startswith(prefix)
        }
    )
    if responsible:
        return responsible
    return list(db.session.scalars(_active("community_manager"))) or list(
        db.session.scalars(_active("admin"))
    )


def responsible_for(user_id: int, queue: str) -> bool:
    """Whether the staff member answers for `queue`: a responsibility of theirs names it (or
    no queue), or they have none at all (then, like the alerts, everything is theirs)."""
    queues = set(
        db.session.scalars(
            select(StaffResponsibility.queue).where(StaffResponsibility.user_id == user_id)
        )
    )
    return not queues or None in queues or queue in queues


def anyone_responsible(queue: str) -> bool:
    """Whether some active community manager answers for `queue` (responsible_for); when
    nobody does, its alerts go to every active CM."""
    named = select(StaffResponsibility.user_id).where(
        or_(StaffResponsibility.queue.is_(None), StaffResponsibility.queue == queue)
    )
    anyone = select(User.id).where(
        User.role == "community_manager",
        User.disabled_at.is_(None),
        or_(
            User.id.in_(named),
            ~User.id.in_(select(StaffResponsibility.user_id)),
        ),
    )
    return db.session.scalar(anyone.limit(1)) is not None


def alert_staff(
    kind: str,
    title: str,
    body: str,
    *,
    queue: str,
    key: str,
    country: str | None = None,
    postcode: str | None = None,
    extra_recipients: list[int] = (),
    **data,
) -> list[int]:
    """Alert the responsible staff of one event (`key` names it: once per event and user),
    and `extra_recipients` (e.g. a ticket's assignee); returns who was alerted."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"unknown alert kind {kind!r} (add it to ALERT_KINDS)")
    recipients = sorted(
        set(responsible_staff(queue, country=country, postcode=postcode)) | set(extra_recipients)
    )
    payload = {**data, "alert_queue": queue}
    notify_many(
        kind,
        title,
        body,
        recipients=[(user_id, f"{key}:{user_id}", payload) for user_id in recipients],
    )
    return recipients


def digest_of(user_id: int) -> str:
    """How `user_id` gets alerts by email (immediate when they never chose)."""
    chosen = db.session.get(StaffAlertSettings, user_id)
    return chosen.digest if chosen is not None else "immediate"


# --- settings, by the CM or an admin --------------------------------------------------------


def _staff_user(actor: Principal, user_id: int) -> User:
    if actor.role != "admin" and actor.user_id != user_id:
        raise NotFound(_("No such staff member."))
    user = db.session.get(User, user_id, with_for_update={"key_share": True})
    if user is None or user.role not in STAFF_ROLES:
        raise NotFound(_("No such staff member."))
    return user


def alert_settings(*, actor: Principal, user_id: int) -> dict:
    user = _staff_user(actor, user_id)
    rows = db.session.scalars(
        select(StaffResponsibility)
        .where(StaffResponsibility.user_id == user.id)
        .order_by(StaffResponsibility.id)
    )
    return {
        "user_id": user.id,
        "digest": digest_of(user.id),
        "responsibilities": [
            {"queue": r.queue, "country": r.country, "postcode_prefix": r.postcode_prefix}
            for r in rows
        ],
    }


def set_alert_settings(
    *, actor: Principal, user_id: int, digest: str | None = None, responsibilities=None
) -> dict:
    """Set the cadence and/or replace the responsibilities (a list; [] = none)."""
    user = _staff_user(actor, user_id)
    if digest is not None:
        if digest not in ALERT_DIGESTS:
            raise field_error("digest", _("must be one of {value}", value=", ".join(ALERT_DIGESTS)))
        chosen = db.session.get(StaffAlertSettings, user.id)
        if chosen is None:
            db.session.add(StaffAlertSettings(user_id=user.id, digest=digest))
        else:
            chosen.digest, chosen.updated_at = digest, utcnow()
    if responsibilities is not None:
        if user.role != "community_manager" and responsibilities:
            raise field_error("responsibilities", _("only community managers have them"))
        db.session.execute(
            delete(StaffResponsibility).where(StaffResponsibility.user_id == user.id)
        )
        seen = set()
        for item in responsibilities:
            entry = (item.get("queue"), item.get("country"), item.get("postcode_prefix"))
            if entry in seen:
                continue
            seen.add(entry)
            db.session.add(
                StaffResponsibility(
                    user_id=user.id, queue=entry[0], country=entry[1], postcode_prefix=entry[2]
                )
            )
    db.session.flush()
    return alert_settings(actor=actor, user_id=user.id)
