"""Alert emails at each community manager's cadence (StaffAlertSettings.digest).

- `immediate` (the default): each alert is emailed at once — the delivery pipeline as is.
- `hourly` / `daily`: no email per alert. The per-alert email delivery is never queued: the
  pipeline's INSERT … SELECT carries one more condition (`no_email_for_digest_readers`,
  plugged in by accounts' wiring), so nothing is queued, then suppressed, and a cadence chosen
  now holds for the next alert. Instead the periodic task `accounts.send_alert_digests` writes
  ONE digest per CM and period: the alerts of the period that were not emailed on their own,
  grouped by queue, as an inbox entry (written read: its alerts are in the inbox already)
  whose email delivery carries it. Hourly periods are UTC hours; daily ones the CM's local day
  (their delivery settings' time zone, else Europe/Berlin). A period starts where the CM's
  last digest ended (at most a week back), so a task that did not run for a while loses none.
- `off`: the inbox only.

Exactly once per (CM, cadence, period start): the digest row is inserted with ON CONFLICT DO
NOTHING on that key before anything else; a second or concurrent run finds it written (or
waits for the other's commit, then finds it) and sends nothing. The digest's email is the
pipeline's delivery of a notification whose dedupe key is the same period key.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accounts.models import StaffAlertDigest, StaffAlertSettings, User
from accounts.staff_alerts import ALERT_KINDS, STAFF_ROLES
from crowd.core.db import is_postgres, utcnow
from crowd.core.i18n import N_, _l
from crowd.extensions import db
from notifications.channels import EMAIL
from notifications.config import mail_settings
from notifications.delivery import zone
from notifications.models import Delivery, DeliverySettings, Notification
from notifications.service import notify

DIGEST_KIND = "staff.alert_digest"
DIGEST_CADENCES = ("hourly", "daily")
DEFAULT_TIME_ZONE = "Europe/Berlin"
# The queues as a digest names them (English message ids; the email renders them translated).
QUEUE_LABELS = {
    "dispatch": N_("Dispatch"),
    "payments": N_("Payments"),
    "tickets": N_("Tickets"),
    "onboarding": N_("Onboarding"),
    "community": N_("Community"),
}
# A digest reaches back at most this far (a CM who was off for a month gets no month's mail).
LOOKBACK = timedelta(days=7)
# The email lists this many alerts of a period; the rest are counted ("… and 12 more").
LISTED = 200
# Where an alert's subject is shown to staff, by the key in its data.
LINKS = {
    "job_id": "/api/v1/staff/jobs/{}",
    "ticket_id": "/api/v1/tickets/{}",
    "member_id": "/api/v1/members/{}",
}
SETTINGS_PATH = "/api/v1/staff/me/alerts"


def no_email_for_digest_readers(kind: str, channel: str, user_id):
    """Queue filter (notifications.delivery): an alert's email only for CMs who want each
    alert at once — none for those on a digest or off."""
    if channel != EMAIL or kind not in ALERT_KINDS:
        return None
    return ~exists().where(
        StaffAlertSettings.user_id == user_id, StaffAlertSettings.digest != "immediate"
    )


# --- periods --------------------------------------------------------------------------------


def period_end(now: datetime, cadence: str, time_zone: str) -> datetime:
    """The last period boundary at or before `now` (UTC)."""
    if cadence == "hourly":
        return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    local = now.astimezone(zone(time_zone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo).astimezone(UTC)


def previous_boundary(end: datetime, cadence: str, time_zone: str) -> datetime:
    """The boundary one period before `end` (a local day may be 23 or 25 hours)."""
    if cadence == "hourly":
        return end - timedelta(hours=1)
    local = end.astimezone(zone(time_zone))
    day = local.date() - timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=local.tzinfo).astimezone(UTC)


# --- the task -------------------------------------------------------------------------------


def send_alert_digests() -> int:
    """Write the digest of every CM on an hourly or daily cadence whose period has ended and
    hand its email to the pipeline; returns how many digests with alerts were written."""
    now = utcnow()
    readers = db.session.execute(
        select(StaffAlertSettings.user_id, StaffAlertSettings.digest, DeliverySettings.time_zone)
        .join(User, User.id == StaffAlertSettings.user_id)
        .outerjoin(DeliverySettings, DeliverySettings.user_id == StaffAlertSettings.user_id)
        .where(
            StaffAlertSettings.digest.in_(DIGEST_CADENCES),
            User.role.in_(STAFF_ROLES),
            User.disabled_at.is_(None),
        )
        .order_by(StaffAlertSettings.user_id)
    ).all()
    written = 0
    for user_id, cadence, time_zone in readers:
        written += _digest(user_id, cadence, time_zone or DEFAULT_TIME_ZONE, now)
    return written


def _digest(user_id: int, cadence: str, time_zone: str, now: datetime) -> int:
    end = period_end(now, cadence, time_zone)
    last_end = db.session.scalar(
        select(func.max(StaffAlertDigest.period_end)).where(StaffAlertDigest.user_id == user_id)
    )
    start = (
        max(last_end, end - LOOKBACK)
        if last_end is not None
        else previous_boundary(end, cadence, time_zone)
    )
    if start >= end:
        return 0
    digest_id = _claim(user_id, cadence, start, end)
    if digest_id is None:
        return 0  # another run wrote this period's digest
    alerts = list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.kind.in_(ALERT_KINDS),
                Notification.created_at >= start,
                Notification.created_at < end,
                # Emailed on its own already (the CM was on `immediate` then).
                ~exists().where(
                    Delivery.notification_id == Notification.id, Delivery.channel == EMAIL
                ),
            )
            .order_by(Notification.created_at, Notification.id)
        )
    )
    if not alerts:
        return 0
    key = f"{DIGEST_KIND}:{user_id}:{cadence}:{start.isoformat()}"
    title, body, data = _compose(cadence, start, end, time_zone, alerts)
    notify(user_id, DIGEST_KIND, title, body, dedupe_key=key, digest_id=digest_id, **data)
    notification_id = db.session.scalar(
        select(Notification.id).where(Notification.dedupe_key == key)
    )
    # Its alerts are in the inbox one by one: the digest itself is no news there.
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(StaffAlertDigest)
        .where(StaffAlertDigest.id == digest_id)
        .values(alerts_count=len(alerts), notification_id=notification_id)
        .execution_options(synchronize_session=False)
    )
    return 1


def _claim(user_id: int, cadence: str, start: datetime, end: datetime) -> int | None:
    """Insert the period's digest row; None when a digest for it exists (or a concurrent run
    inserted it: PostgreSQL waits for that run's commit, SQLite holds the write lock)."""
    dialect = postgresql if is_postgres() else sqlite
    statement = (
        dialect.insert(StaffAlertDigest)
        .values(
            user_id=user_id,
            cadence=cadence,
            period_start=start,
            period_end=end,
            alerts_count=0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "cadence", "period_start"])
        .returning(StaffAlertDigest.id)
    )
    return db.session.scalar(statement)


def _compose(cadence, start, end, time_zone, alerts) -> tuple[str, str, dict]:
    base = mail_settings().base_url.rstrip("/")
    local = zone(time_zone)
    groups: dict[str, list[dict]] = defaultdict(list)
    for alert in alerts[:LISTED]:
        data = dict(alert.data or {})
        queue = data.pop("alert_queue", "other")
        refs = {k: v for k, v in data.items() if k.endswith("_id")}
        link = next(
            (base + LINKS[k].format(v) for k, v in refs.items() if k in LINKS),
            f"{base}/api/v1/me/notifications",
        )
        groups[queue].append(
            {
                "notification_id": alert.id,
                "kind": alert.kind,
                "title": alert.title,
                "body": alert.body,
                "at": alert.created_at.astimezone(local).strftime("%Y-%m-%d %H:%M"),
                "refs": ", ".join(f"{k} {v}" for k, v in refs.items()),
                "link": link,
            }
        )
    count = len(alerts)
    span = (
        f"{start.astimezone(local):%Y-%m-%d %H:%M} – {end.astimezone(local):%H:%M}"
        if cadence == "hourly"
        else f"{start.astimezone(local):%Y-%m-%d} – {end.astimezone(local):%Y-%m-%d}"
    )
    if cadence == "hourly":
        title = _l("Your hourly alert digest: {count} alerts", count=count)
    else:
        title = _l("Your daily alert digest: {count} alerts", count=count)
    body = _l("Alerts from {span} ({time_zone}), by queue.", span=span, time_zone=time_zone)
    data = {
        "cadence": cadence,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "alerts_count": count,
        "groups": [
            {"queue": q, "queue_label": QUEUE_LABELS.get(q, q), "alerts": items}
            for q, items in sorted(groups.items())
        ],
        "more": max(0, count - LISTED),
        "settings_url": base + SETTINGS_PATH,
    }
    return title, body, data
