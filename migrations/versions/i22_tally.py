"""Notification tallies: a broadcast's reach counted by the database as it happens

Revision ID: i22_tally
Revises: i22_obfast
Create Date: 2026-12-07 04:40:00.000000

A broadcast's reach (delivered to the inbox, read, each channel's deliveries by status) was
counted by joining every recipient to its inbox entry by a text key: ~0.9 s for the list of
broadcasts at 100,000 members. Now notifications and deliveries that belong together carry a
`tally_key` ("broadcast:12"), and triggers keep `notification_tallies` current on every insert
and status change, whichever code path makes it (the sender, a read in the inbox, a read of
the broadcast, read-all, a reclaimed lease). Reading the reach is a sum over a few rows.

On PostgreSQL the triggers run once per statement over its transition tables (one addition
per counter however many rows the statement wrote), and the counters are sharded by the
writing transaction's id (16 shards), so concurrent delivery batches of one broadcast do not
queue behind one counter row; a reader sums the shards. SQLite (one writer) uses row
triggers. Existing broadcasts are backfilled before the triggers exist.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i22_tally"
down_revision = "i22_obfast"
branch_labels = None
depends_on = None

SHARDS = 16

# SQLite: row triggers (trigger, table, event, condition, [(channel, status, delta)]).
ROW_TRIGGERS = (
    (
        "notification_tally_insert",
        "notifications",
        "INSERT",
        "NEW.tally_key IS NOT NULL",
        [("'inbox'", "'delivered'", 1)],
    ),
    (
        "notification_tally_read",
        "notifications",
        "UPDATE OF read_at",
        "NEW.tally_key IS NOT NULL AND OLD.read_at IS NULL AND NEW.read_at IS NOT NULL",
        [("'inbox'", "'read'", 1)],
    ),
    (
        "delivery_tally_insert",
        "deliveries",
        "INSERT",
        "NEW.tally_key IS NOT NULL",
        [("NEW.channel", "NEW.status", 1)],
    ),
    (
        "delivery_tally_status",
        "deliveries",
        "UPDATE OF status",
        "NEW.tally_key IS NOT NULL AND OLD.status <> NEW.status",
        [("OLD.channel", "OLD.status", -1), ("NEW.channel", "NEW.status", 1)],
    ),
)

# PostgreSQL: statement triggers over the transition tables, so a statement writing 500 rows
# adds to each counter once (a row trigger would update one counter row 500 times in one
# transaction, each update a new row version to walk past). (trigger, table, event,
# referencing, SELECT of tally_key, channel, status, delta.)
_CHANGED = "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {side}.tally_key IS NOT NULL"
STATEMENT_TRIGGERS = (
    (
        "notification_tally_insert",
        "notifications",
        "INSERT",
        "NEW TABLE AS new_rows",
        "SELECT tally_key, 'inbox', 'delivered', 1 FROM new_rows WHERE tally_key IS NOT NULL",
    ),
    (
        "notification_tally_read",
        "notifications",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT n.tally_key, 'inbox', 'read', 1 "
        + _CHANGED.format(side="n")
        + " AND o.read_at IS NULL AND n.read_at IS NOT NULL",
    ),
    (
        "delivery_tally_insert",
        "deliveries",
        "INSERT",
        "NEW TABLE AS new_rows",
        "SELECT tally_key, channel, status, 1 FROM new_rows WHERE tally_key IS NOT NULL",
    ),
    (
        "delivery_tally_status",
        "deliveries",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT o.tally_key, o.channel, o.status, -1 "
        + _CHANGED.format(side="o")
        + " AND o.status <> n.status UNION ALL SELECT n.tally_key, n.channel, n.status, 1 "
        + _CHANGED.format(side="n")
        + " AND o.status <> n.status",
    ),
)
TRIGGERS = tuple((name, table) for name, table, *_rest in ROW_TRIGGERS)

_UPSERT = (
    "INSERT INTO notification_tallies (tally_key, channel, status, shard, count) {rows} "
    "ON CONFLICT (tally_key, channel, status, shard) "
    "DO UPDATE SET count = notification_tallies.count + excluded.count;"
)


def _create_triggers(postgres: bool) -> None:
    if postgres:
        for name, table, event, referencing, changes in STATEMENT_TRIGGERS:
            # Summed per counter and written in one order (no two writers lock two counters
            # in opposite orders); the shard is the transaction's.
            rows = (
                f"SELECT key, channel, status, (txid_current() % {SHARDS})::smallint, "
                f"sum(delta) FROM ({changes}) AS d (key, channel, status, delta) "
                "GROUP BY key, channel, status HAVING sum(delta) <> 0 "
                "ORDER BY key, channel, status"
            )
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n{_UPSERT.format(rows=rows)}\nRETURN NULL;\nEND $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        return
    # SQLite has one writer at a time: row triggers, one shard.
    for name, table, event, condition, changes in ROW_TRIGGERS:
        body = "\n".join(
            _UPSERT.format(rows=f"VALUES (NEW.tally_key, {c}, {s}, 0, {d})") for c, s, d in changes
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW "
            f"WHEN {condition}\nBEGIN\n{body}\nEND"
        )


def _broadcast_key(column: str, postgres: bool) -> str:
    """'broadcast:<id>' of a broadcast inbox key 'broadcast:<id>:<member id>'."""
    if postgres:
        return f"'broadcast:' || split_part({column}, ':', 2)"
    rest = f"substr({column}, 11)"
    return f"'broadcast:' || substr({rest}, 1, instr({rest}, ':') - 1)"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "notification_tallies",
        sa.Column("tally_key", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tally_key", "channel", "status", "shard"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("tally_key", sa.String(100), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("tally_key", sa.String(100), nullable=True))
    # Backfill: the broadcasts' inbox entries and their deliveries, then their tallies.
    op.execute(
        "UPDATE notifications SET tally_key = "
        f"{_broadcast_key('dedupe_key', postgres)} "
        "WHERE kind LIKE 'broadcast.%' AND dedupe_key LIKE 'broadcast:%:%'"
    )
    op.execute(
        "UPDATE deliveries SET tally_key = (SELECT n.tally_key FROM notifications n "
        "WHERE n.id = deliveries.notification_id) WHERE kind LIKE 'broadcast.%'"
    )
    op.execute(
        "INSERT INTO notification_tallies (tally_key, channel, status, shard, count) "
        "SELECT tally_key, 'inbox', 'delivered', 0, count(*) FROM notifications "
        "WHERE tally_key IS NOT NULL GROUP BY tally_key "
        "UNION ALL SELECT tally_key, 'inbox', 'read', 0, count(*) FROM notifications "
        "WHERE tally_key IS NOT NULL AND read_at IS NOT NULL GROUP BY tally_key "
        "UNION ALL SELECT tally_key, channel, status, 0, count(*) FROM deliveries "
        "WHERE tally_key IS NOT NULL GROUP BY tally_key, channel, status"
    )
    _create_triggers(postgres)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION {name}()")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("tally_key")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("tally_key")
    op.drop_table("notification_tallies")
