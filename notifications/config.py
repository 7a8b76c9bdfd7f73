"""Notification settings: email delivery (MAIL_*: the SMTP relay, the senders, links and
retries) and push delivery to the mobile apps (PUSH_*: offline or live, FCM for Android, APNs
for iOS)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar, Literal

from pydantic import ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current

# Plain http only for a local fake; Google and Apple are reached over https.
_BASE_URL = re.compile(
    r"https://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?"
    r"|http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"
)
_HTTPS_URL = re.compile(r"https://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")
# Apple's key and team identifiers are 10 characters.
_APPLE_ID = re.compile(r"[A-Z0-9]{10}")
_LIVE_NEEDS = (
    "fcm_project_id",
    "fcm_service_account",
    "apns_key_id",
    "apns_team_id",
    "apns_private_key",
    "apns_topic",
)


def read_inline_or_file(value: str) -> str:
    """The value itself when it is inline JSON or PEM, else the content of the file it names."""
    if value.lstrip().startswith(("{", "-----BEGIN")):
        return value
    with open(value, encoding="utf-8") as handle:
        return handle.read()


class PushSettings(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="PUSH_")
    SECRET: ClassVar[frozenset[str]] = frozenset({"fcm_service_account", "apns_private_key"})

    provider: Literal["offline", "live"] = setting(
        "offline",
        "`offline`: pushes are kept in the push outbox (GET /api/v1/push-outbox, "
        "`flask crowd push-outbox`), nothing leaves the machine; `live`: Android devices through "
        "FCM, iOS devices through APNs (every PUSH_FCM_* and PUSH_APNS_* setting then required)",
    )
    fcm_project_id: str | None = setting(
        None, "the Firebase project id FCM sends for", validate_default=True
    )
    fcm_service_account: str | None = setting(
        None,
        "the Google service account that may send for the project: the path of its JSON key "
        "file, or the JSON itself",
        validate_default=True,
    )
    fcm_base_url: str = setting(
        "https://fcm.googleapis.com",
        "FCM's API (`https://…`, or `http://localhost[:port]` for a local fake)",
    )
    apns_key_id: str | None = setting(
        None, "the 10-character id of the APNs signing key (.p8)", validate_default=True
    )
    apns_team_id: str | None = setting(
        None, "the 10-character Apple team id that owns the key", validate_default=True
    )
    apns_private_key: str | None = setting(
        None,
        "the APNs signing key (ES256): the path of the .p8 file, or its PEM text",
        validate_default=True,
    )
    apns_topic: str | None = setting(
        None, "the iOS app's bundle id (apns-topic)", validate_default=True
    )
    apns_base_url: str = setting(
        "https://api.push.apple.com",
        "APNs: `https://api.push.apple.com` (production), `https://api.sandbox.push.apple.com` "
        "(development builds) or a local fake",
    )
    apns_ca_file: str | None = setting(
        None,
        "a CA bundle (PEM file) to trust for the APNs connection, e.g. a local fake's certificate",
        shown="unset (the system's CAs)",
    )
    timeout_seconds: int = setting(10, "how long one request to FCM or APNs may take", ge=1, le=120)

    @field_validator(*_LIVE_NEEDS)
    @classmethod
    def _required_when_live(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and info.data.get("provider") == "live":
            raise ValueError("must be set when PUSH_PROVIDER=live")
        return value

    @field_validator("fcm_service_account")
    @classmethod
    def _service_account(cls, value: str | None) -> str | None:
        if not value:
            return value
        try:
            info = json.loads(read_inline_or_file(value))
        except (OSError, ValueError):
            raise ValueError("must be a service account's JSON or a readable file of it") from None
        missing = {"client_email", "private_key", "token_uri"} - set(info or {})
        if not isinstance(info, dict) or missing:
            raise ValueError(f"lacks {', '.join(sorted(missing))} (not a service account key)")
        return value

    @field_validator("apns_private_key")
    @classmethod
    def _private_key(cls, value: str | None) -> str | None:
        if not value:
            return value
        try:
            text = read_inline_or_file(value)
        except OSError:
            raise ValueError("must be a PEM private key or a readable .p8 file") from None
        if "PRIVATE KEY" not in text:
            raise ValueError("must be a PEM private key or a readable .p8 file")
        return value

    @field_validator("apns_key_id", "apns_team_id")
    @classmethod
    def _apple_id(cls, value: str | None) -> str | None:
        if value and not _APPLE_ID.fullmatch(value):
            raise ValueError("must be 10 capital letters or digits")
        return value

    @field_validator("fcm_base_url")
    @classmethod
    def _fcm_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not _BASE_URL.fullmatch(value):
            raise ValueError("must be https://host[:port] or http://localhost[:port]")
        return value

    @field_validator("apns_base_url")
    @classmethod
    def _apns_url(cls, value: str) -> str:
        # APNs speaks HTTP/2 over TLS only; a fake has to as well.
        value = value.rstrip("/")
        if not _HTTPS_URL.fullmatch(value):
            raise ValueError("must be https://host[:port]")
        return value

    @field_validator("apns_ca_file")
    @classmethod
    def _ca_file(cls, value: str | None) -> str | None:
        if value and not os.path.isfile(value):
            raise ValueError("must name a readable PEM file")
        return value


def push_settings() -> PushSettings:
    """The push settings in force (PUSH_* settings)."""
    return current(PushSettings)


class MailSettings(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="MAIL_")
    SECRET: ClassVar[frozenset[str]] = frozenset({"smtp_password"})

    smtp_host: str | None = setting(
        None,
        "the SMTP relay's host name; unset: email is offline — every message is rendered and "
        "kept in the outbox table (`flask crowd outbox`, `GET /api/v1/admin/outbox`), none sent",
        shown="unset (offline)",
    )
    smtp_port: int = setting(587, "the SMTP relay's port", ge=1, le=65535)
    smtp_user: str | None = setting(None, "user name for SMTP AUTH (unset: no login)")
    smtp_password: str | None = setting(None, "password for SMTP AUTH")
    smtp_starttls: bool = setting(True, "upgrade the connection with STARTTLS before sending")
    smtp_ssl: bool = setting(False, "connect with TLS from the start (SMTPS, usually port 465)")
    smtp_timeout_seconds: int = setting(20, "socket timeout talking to the relay", ge=1, le=300)
    from_default: str = setting(
        "Crowd <hello@crowd.example>", "sender of account and other emails", min_length=3
    )
    from_jobs: str = setting(
        "Crowd Jobs <jobs@crowd.example>", "sender of job, offer and payout emails", min_length=3
    )
    from_support: str = setting(
        "Crowd Support <support@crowd.example>", "sender of support emails", min_length=3
    )
    from_news: str = setting(
        "Crowd News <news@crowd.example>", "sender of broadcasts and newsletters", min_length=3
    )
    base_url: str = setting(
        "http://localhost:5000",
        "public base URL of the API for links in emails (unsubscribe, consent confirmation)",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
    )
    unsubscribe_mailto: str | None = setting(
        None, "an address for `List-Unsubscribe: <mailto:…>` next to the https link"
    )
    max_attempts: int = setting(
        8, "delivery attempts before a temporary failure (SMTP 4xx, no connection) is final", ge=1
    )
    retry_base_seconds: int = setting(
        60, "wait before the first retry; doubled on each further attempt (at most a day)", ge=1
    )


_held_mail_settings: ContextVar[MailSettings | None] = ContextVar(
    "crowd_mail_settings_held", default=None
)


def mail_settings() -> MailSettings:
    """The email settings in force (MAIL_* settings); inside mail_settings_held(), the ones
    read when it began."""
    held = _held_mail_settings.get()
    return held if held is not None else current(MailSettings)


@contextmanager
def mail_settings_held() -> Iterator[MailSettings]:
    """Read the email settings once for a run of the sender instead of at every message (an
    admin's change applies from the next run)."""
    held = _held_mail_settings.get()
    if held is not None:
        yield held
        return
    token = _held_mail_settings.set(current(MailSettings))
    try:
        yield _held_mail_settings.get()
    finally:
        _held_mail_settings.reset(token)
