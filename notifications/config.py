"""Email delivery settings (MAIL_*: the SMTP relay, the senders, links and retries)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


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


def mail_settings() -> MailSettings:
    """The email settings in force (MAIL_* settings)."""
    return current(MailSettings)
