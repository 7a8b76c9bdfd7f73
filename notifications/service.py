"""Write notifications to users' inboxes in the caller's unit of work, once per event.

Titles and bodies are lazy messages (`_l("…", name=…)`, crowd.core.i18n): they are rendered
here in each recipient's language (their saved locale, else DEFAULT_LOCALE), once per language
of the batch, and the rendered text is stored. Plain strings (a broadcast's own words) are
stored as they are."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import func, select, text

from crowd.core.db import is_postgres, utcnow
from crowd.core.i18n import is_lazy, locales_of, render
from crowd.extensions import db
from notifications.delivery import queue_deliveries
from notifications.models import Notification, NotificationTally

# One multi-row INSERT carries 7 parameters a row; this keeps a statement well under the
# databases' limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).
ROWS_PER_STATEMENT = 1000
# PostgreSQL takes a batch as one JSON document (_insert_postgres): this many rows a document.
ROWS_PER_DOCUMENT = 10_000


def notify(
    user_id: int,
    kind: str,
    title,
    body="",
    *,
    dedupe_key: str,
    channel_content: dict | None = None,
    **data,
) -> None:
    """Write a notification with the current unit of work: it lands when the caller commits,
    and a rolled-back unit of work leaves none.

    `dedupe_key` names the event (e.g. "offer.new:42"): the same event never notifies twice,
    and notifying it again (a re-run sweep, a concurrent duplicate) is harmless.

    `channel_content` ({"subject", "body", "data"}) is what the other channels (email) say
    instead of the inbox's title and body — a reset code the inbox must not show.
    """
    notify_many(
        kind, title, body, recipients=[(user_id, dedupe_key, data)], channel_content=channel_content
    )


def notify_many(
    kind: str,
    title,
    body="",
    *,
    recipients: Iterable[tuple[int, str, dict]],
    channel_content: dict | None = None,
    tally_key: str | None = None,
) -> None:
    """notify() for many recipients of one kind of event, in one INSERT statement.

    `recipients` are `(user_id, dedupe_key, data)`; each key names one event, as in notify().
    The deliveries to further channels (email, push) are queued with them, set-based
    (notifications.delivery). With a `tally_key` the database counts them and their
    deliveries as they go (`tallies()`).
    """
    recipients = list(recipients)
    if not recipients:
        return
    now = utcnow()
    by_locale: dict[str | None, list[tuple[int, str, dict]]] = {}
    if is_lazy((title, body, channel_content)):
        locales = locales_of(user_id for user_id, _key, _data in recipients)
        for recipient in recipients:
            by_locale.setdefault(locales[recipient[0]], []).append(recipient)
    else:
        by_locale[None] = recipients
    for locale, group in by_locale.items():
        rendered_title, rendered_body = render(title, locale), render(body, locale)
        rows = [
            {
                "user_id": user_id,
                "kind": kind,
                "title": rendered_title,
                "body": rendered_body,
                "data": data,
                "dedupe_key": dedupe_key,
                "tally_key": tally_key,
                # A statement, not ORM objects: the model's defaults are filled here, once a
                # batch.
                "created_at": now,
            }
            for user_id, dedupe_key, data in group
        ]
        _insert(rows)
        queue_deliveries(
            kind,
            [row["dedupe_key"] for row in rows],
            content=render(channel_content, locale),
        )


def _insert(rows: list[dict]) -> None:
    """INSERT the notification rows, skipping any whose event (`dedupe_key`) is already written.

    ON CONFLICT DO NOTHING, not a savepoint: no ORM objects in the session, and a concurrent
    writer of the same event makes this one wait for its commit, then skip the row — the
    caller's unit of work never fails on a duplicate. The rows go in key order so that
    concurrent batches wait on each other in one order instead of deadlocking. On PostgreSQL
    one statement per ROWS_PER_DOCUMENT rows, the rows as one JSON document; elsewhere one
    statement compiled once and executed for all rows (SQLAlchemy sends them as multi-row
    INSERTs of up to ROWS_PER_STATEMENT rows: "insertmanyvalues"), not a statement of its own
    per batch, whose compiling cost more than the database's work.
    """
    if not rows:
        return
    rows = sorted(rows, key=lambda row: row["dedupe_key"])
    # A user added in this unit of work must exist for the foreign key (a Core statement does
    # not flush the session by itself).
    db.session.flush()
    if is_postgres():
        _insert_postgres(rows)
        return
    from sqlalchemy.dialects.sqlite import insert

    statement = insert(Notification.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])
    db.session.execute(
        statement.execution_options(insertmanyvalues_page_size=ROWS_PER_STATEMENT), rows
    )


# PostgreSQL: the batch as one JSON document, read back typed (as onboarding.levels.bulk does):
# one parameter instead of 8 per row, so neither side parses a statement of thousands of
# placeholders (psycopg's conversion of those cost more than the insert). WITH ORDINALITY keeps
# the key order the rows come in (json_to_recordset cannot take it).
POSTGRES_INSERT = text("""
    INSERT INTO notifications (user_id, kind, title, body, data, dedupe_key, tally_key, created_at)
    SELECT CAST(e.r ->> 'user_id' AS bigint), e.r ->> 'kind', e.r ->> 'title', e.r ->> 'body',
           e.r -> 'data', e.r ->> 'dedupe_key', e.r ->> 'tally_key',
           CAST(e.r ->> 'created_at' AS timestamptz)
      FROM json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS e(r, n)
     ORDER BY e.n
        ON CONFLICT (dedupe_key) DO NOTHING
""")


def _insert_postgres(rows: list[dict]) -> None:
    for start in range(0, len(rows), ROWS_PER_DOCUMENT):
        document = [
            {**row, "created_at": row["created_at"].isoformat()}
            for row in rows[start : start + ROWS_PER_DOCUMENT]
        ]
        db.session.execute(POSTGRES_INSERT, {"rows": json.dumps(document)})


def tallies(keys: Iterable[str]) -> dict[str, dict[str, dict[str, int]]]:
    """{tally key: {channel: {status: count}}} for the keys asked, summed over the shards:
    channel `inbox` has `delivered` and `read`, the delivery channels their statuses. A key
    nothing was counted for is absent."""
    keys = list(keys)
    result: dict[str, dict[str, dict[str, int]]] = {}
    if not keys:
        return result
    rows = db.session.execute(
        select(
            NotificationTally.tally_key,
            NotificationTally.channel,
            NotificationTally.status,
            func.sum(NotificationTally.count),
        )
        .where(NotificationTally.tally_key.in_(keys))
        .group_by(NotificationTally.tally_key, NotificationTally.channel, NotificationTally.status)
    )
    for key, channel, status, count in rows:
        result.setdefault(key, {}).setdefault(channel, {})[status] = int(count)
    return result
