"""What a user wants delivered: per kind and channel (instead of the kind's default), quiet
hours in their time zone, one-click unsubscribes, and consents to marketing (double opt-in,
every step kept in consent_events)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from notifications.channels import EMAIL, INBOX, KINDS, delivery_channels, known_kind, policy_for
from notifications.delivery import zone
from notifications.email import consent_token, read_consent_token, read_unsubscribe_token
from notifications.models import Consent, ConsentEvent, DeliverySettings, NotificationPreference
from notifications.service import notify

# Marketing topics and the version of the text a user agrees to (kept with each consent).
CONSENT_TOPICS = {"newsletter": "newsletter-2026-12"}
CONSENT_LINK_TTL = timedelta(days=7)
DEFAULT_TIME_ZONE = "Europe/Berlin"


def _stored(user_id: int) -> dict[tuple[str, str], bool]:
    rows = db.session.execute(
        select(
            NotificationPreference.kind,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(NotificationPreference.user_id == user_id)
    )
    return {(kind, channel): enabled for kind, channel, enabled in rows}


def _enabled(kind: str, channel: str, stored: dict) -> bool:
    return stored.get((kind, channel), channel in policy_for(kind).channels)


def get_preferences(*, user_id: int) -> dict:
    """Every kind with its channels on or off for the user, their time zone and quiet hours."""
    stored = _stored(user_id)
    settings = db.session.get(DeliverySettings, user_id)
    kinds = []
    for kind in KINDS:
        policy = policy_for(kind)
        channels = {INBOX: True}
        channels.update({c: _enabled(kind, c, stored) for c in delivery_channels()})
        kinds.append(
            {
                "kind": kind,
                "description": policy.description,
                "transactional": policy.transactional,
                "marketing": policy.topic is not None,
                "channels": channels,
            }
        )
    quiet = None
    if settings is not None and settings.quiet_start is not None:
        quiet = {"start": settings.quiet_start, "end": settings.quiet_end}
    return {
        "time_zone": settings.time_zone if settings else DEFAULT_TIME_ZONE,
        "quiet_hours": quiet,
        "kinds": kinds,
    }


def update_preferences(
    *,
    user_id: int,
    preferences: list[dict] | None = None,
    time_zone: str | None = None,
    quiet_hours: dict | None = None,
    clear_quiet_hours: bool = False,
) -> dict:
    """Set channels per kind, the time zone and quiet hours; a transactional kind keeps at
    least one channel beyond the inbox (422 naming the entry otherwise)."""
    preferences = preferences or []
    channels = delivery_channels()
    stored = _stored(user_id)
    after = dict(stored)
    for i, entry in enumerate(preferences):
        if not known_kind(entry["kind"]):
            raise field_error(f"preferences.{i}.kind", _("not a kind of notification"))
        if entry["channel"] not in channels:
            raise field_error(
                f"preferences.{i}.channel",
                _("one of {value} (the inbox stays on)", value=", ".join(channels)),
            )
        after[(entry["kind"], entry["channel"])] = entry["enabled"]
    for i, entry in enumerate(preferences):
        policy = policy_for(entry["kind"])
        if policy.transactional and not any(_enabled(entry["kind"], c, after) for c in channels):
            raise field_error(
                f"preferences.{i}.enabled",
                _(
                    "{value} is transactional: keep at least one of its channels on",
                    value=entry["kind"],
                ),
            )
    if time_zone is not None and zone(time_zone).key != time_zone:
        raise field_error("time_zone", _("an IANA time zone such as Europe/Berlin"))
    now = utcnow()
    for entry in preferences:
        _set_preference(user_id, entry["kind"], entry["channel"], entry["enabled"], "api", now)
    if time_zone is not None or quiet_hours is not None or clear_quiet_hours:
        settings = db.session.get(DeliverySettings, user_id, with_for_update=ROW_LOCK)
        if settings is None:
            settings = DeliverySettings(user_id=user_id, time_zone=DEFAULT_TIME_ZONE)
            db.session.add(settings)
        if time_zone is not None:
            settings.time_zone = time_zone
        if quiet_hours is not None:
            settings.quiet_start, settings.quiet_end = quiet_hours["start"], quiet_hours["end"]
        elif clear_quiet_hours:
            settings.quiet_start = settings.quiet_end = None
        settings.updated_at = now
    db.session.flush()
    return get_preferences(user_id=user_id)


def _set_preference(user_id: int, kind: str, channel: str, enabled: bool, source: str, now):
    row = db.session.scalar(
        select(NotificationPreference)
        .where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.kind == kind,
            NotificationPreference.channel == channel,
        )
        .with_for_update(key_share=True)
    )
    if row is None:
        db.session.add(
            NotificationPreference(
                user_id=user_id,
                kind=kind,
                channel=channel,
                enabled=enabled,
                source=source,
                updated_at=now,
            )
        )
        db.session.flush()
    elif row.enabled != enabled:
        row.enabled, row.source, row.updated_at = enabled, source, now


# --- one-click unsubscribe ------------------------------------------------------------------


def _unsubscribe_target(token: str) -> tuple[int, str]:
    target = read_unsubscribe_token(token)
    if target is None or policy_for(target[1]).transactional:
        raise NotFound(_("This unsubscribe link is not valid."))
    return target


def unsubscribe_status(*, token: str) -> dict:
    """What the link unsubscribes from, and whether it already did."""
    user_id, kind = _unsubscribe_target(token)
    return {
        "kind": kind,
        "description": policy_for(kind).description or kind,
        "unsubscribed": not _enabled(kind, EMAIL, _stored(user_id)),
    }


def unsubscribe(*, token: str, ip_address: str | None = None) -> dict:
    """Switch the link's kind off by email for its user (and withdraw a marketing consent);
    doing it again changes nothing."""
    user_id, kind = _unsubscribe_target(token)
    now = utcnow()
    _set_preference(user_id, kind, EMAIL, False, "unsubscribe", now)
    topic = policy_for(kind).topic
    if topic:
        withdraw_consent(user_id=user_id, topic=topic, method="unsubscribe", ip_address=ip_address)
    db.session.flush()
    return unsubscribe_status(token=token)


# --- consents -------------------------------------------------------------------------------


def _topic(topic: str) -> str:
    if topic not in CONSENT_TOPICS:
        raise field_error("topic", _("one of {value}", value=", ".join(CONSENT_TOPICS)))
    return topic


def _consent(user_id: int, topic: str, *, lock: bool = False) -> Consent | None:
    query = select(Consent).where(Consent.user_id == user_id, Consent.topic == topic)
    if lock:
        query = query.with_for_update(key_share=True)
    return db.session.scalar(query)


def _event(user_id, topic, action, method, text_version, ip_address, now) -> ConsentEvent:
    event = ConsentEvent(
        user_id=user_id,
        topic=topic,
        action=action,
        method=method,
        text_version=text_version,
        ip_address=ip_address,
        created_at=now,
    )
    db.session.add(event)
    db.session.flush()
    return event


def request_consent(*, user_id: int, topic: str, confirm_url_base: str, ip_address=None) -> dict:
    """Send the confirmation email with a signed link (double opt-in); a current consent
    stays as it is and sends nothing."""
    topic = _topic(topic)
    consent = _consent(user_id, topic)
    if consent is not None and consent.granted_at and consent.withdrawn_at is None:
        return consent_state(user_id=user_id, topic=topic)
    version = CONSENT_TOPICS[topic]
    now = utcnow()
    event = _event(user_id, topic, "requested", "double_opt_in", version, ip_address, now)
    link = f"{confirm_url_base.rstrip('/')}/api/v1/consents/confirm/"
    link += consent_token(user_id, topic, version)
    notify(
        user_id,
        "consent.confirm",
        _l("Confirm your {topic} subscription", topic=topic),
        _l(
            "We sent you an email to confirm that you want the {topic}; open its link.", topic=topic
        ),
        dedupe_key=f"consent.confirm:{event.id}",
        channel_content={"data": {"topic": topic, "confirm_url": link}},
        topic=topic,
    )
    return consent_state(user_id=user_id, topic=topic)


def _confirmation(token: str) -> tuple[int, str, str]:
    value = read_consent_token(token, max_age_seconds=int(CONSENT_LINK_TTL.total_seconds()))
    if value is None or value.get("t") not in CONSENT_TOPICS:
        raise NotFound(_("This confirmation link is not valid or has expired."))
    return value["u"], value["t"], str(value.get("v"))


def consent_to_confirm(*, token: str) -> dict:
    """The consent a confirmation link is for, as it stands."""
    user_id, topic, _ = _confirmation(token)
    return consent_state(user_id=user_id, topic=topic)


def confirm_consent(*, token: str, ip_address: str | None = None) -> dict:
    """Record the consent the signed link asks for; a second click changes nothing."""
    user_id, topic, version = _confirmation(token)
    consent = _consent(user_id, topic, lock=True)
    now = utcnow()
    if consent is None:
        consent = Consent(user_id=user_id, topic=topic)
        db.session.add(consent)
    elif consent.granted_at is not None and consent.withdrawn_at is None:
        return consent_state(user_id=user_id, topic=topic)
    consent.granted_at, consent.withdrawn_at = now, None
    _event(user_id, topic, "granted", "double_opt_in", version, ip_address, now)
    return consent_state(user_id=user_id, topic=topic)


def withdraw_consent(
    *, user_id: int, topic: str, method: str = "api", ip_address: str | None = None
) -> dict:
    """Withdraw a current consent (kept in the history); without one nothing changes."""
    topic = _topic(topic)
    consent = _consent(user_id, topic, lock=True)
    if consent is not None and consent.granted_at is not None and consent.withdrawn_at is None:
        now = utcnow()
        consent.withdrawn_at = now
        _event(user_id, topic, "withdrawn", method, CONSENT_TOPICS[topic], ip_address, now)
    return consent_state(user_id=user_id, topic=topic)


def consent_state(*, user_id: int, topic: str) -> dict:
    consent = _consent(user_id, topic)
    history = db.session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.user_id == user_id, ConsentEvent.topic == topic)
        .order_by(ConsentEvent.id)
    ).all()
    if consent is not None and consent.granted_at and consent.withdrawn_at is None:
        status = "granted"
    elif consent is not None and consent.withdrawn_at is not None:
        status = "withdrawn"
    elif history:
        status = "pending"
    else:
        status = "none"
    return {
        "topic": topic,
        "status": status,
        "granted_at": consent.granted_at if consent else None,
        "withdrawn_at": consent.withdrawn_at if consent else None,
        "history": history,
    }


def list_consents(*, user_id: int) -> list[dict]:
    """The user's consent to each marketing topic, with its history."""
    return [consent_state(user_id=user_id, topic=topic) for topic in CONSENT_TOPICS]
