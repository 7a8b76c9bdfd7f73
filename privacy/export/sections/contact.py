"""Sections: the inbox, preferences, consents, devices and sign-ins; and the files query."""

from __future__ import annotations

from sqlalchemy import Select, select

from crowd.core.files.models import DATA_EXPORT
from crowd.core.i18n import _l
from privacy.export.sections.base import Person, Section, columns, only, t, user_table


def _notifications(person: Person) -> Select:
    table = t("notifications")
    return (
        select(*only("id", "kind", "title", "body", "data", "created_at", "read_at", table=table))
        .where(table.c.user_id == person.user_id)
        .order_by(table.c.id)
    )


def _sessions(person: Person) -> Select:
    """Their sign-ins (session tokens) and API keys, without the secrets."""
    table = t("auth_tokens")
    return (
        select(*columns(table, without=("token_hash", "user_id")))
        .where(table.c.user_id == person.user_id)
        .order_by(table.c.id)
    )


def files_query(person: Person) -> Select:
    """Their files: every ready upload they own (profile photo, identity images, work photos,
    ticket attachments); earlier exports are not exported again."""
    files = t("stored_files")
    return (
        select(files.c.id, files.c.purpose, files.c.content_type, files.c.size, files.c.key)
        .where(
            files.c.owner_user_id == person.user_id,
            files.c.status == "ready",
            files.c.purpose != DATA_EXPORT,
        )
        .order_by(files.c.id)
    )


SECTIONS = (
    Section("notifications", _l("your inbox"), _notifications),
    Section(
        "notification_preferences",
        _l("your notification preferences"),
        user_table("notification_preferences", without=("user_id",)),
    ),
    Section(
        "quiet_hours",
        _l("your time zone and quiet hours"),
        user_table("delivery_settings", without=("user_id",), order=None),
    ),
    Section("consents", _l("your consents"), user_table("consents", without=("user_id",))),
    Section(
        "consent_history",
        _l("when you gave or withdrew consents"),
        user_table("consent_events", without=("user_id",)),
    ),
    Section(
        "devices",
        _l("the devices receiving your push notifications"),
        user_table("devices", without=("user_id", "token")),
    ),
    Section("sign_ins", _l("your sign-ins and API keys (without secrets)"), _sessions),
    Section(
        "account_events",
        _l("what happened to your account's access"),
        user_table("account_events", without=("user_id", "actor_id")),
    ),
    Section(
        "help_feedback",
        _l("your feedback on help articles"),
        user_table("help_article_feedback", without=("user_id",), order="created_at"),
    ),
)
