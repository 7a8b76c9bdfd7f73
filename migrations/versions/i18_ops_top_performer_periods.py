"""top-performer runs name the period they evaluated (the one that ended), not the next one

Revision ID: i18_ops
Revises: i18_held
Create Date: 2026-12-07 10:00:00.000000

A run used to be labelled with the period that had just begun and to evaluate the window
ending at its start. Now a period is evaluated once it has ended, over the window ending with
it, so an existing run is relabelled with the period it evaluated: the one before its label
(same window, same badges). A run a scheduler made right after start-up then no longer blocks
the current period, which is evaluated once it has ended. Data only; no schema change.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "i18_ops"
down_revision = "i18_held"
branch_labels = None
depends_on = None

runs = sa.table(
    "top_performer_runs",
    sa.column("id", sa.BigInteger),
    sa.column("period", sa.String),
    sa.column("period_start", sa.DateTime(timezone=True)),
    sa.column("period_end", sa.DateTime(timezone=True)),
    sa.column("window_end", sa.DateTime(timezone=True)),
    sa.column("criteria", sa.JSON),
)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _shift(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _label(start: datetime, months: int) -> str:
    number = (start.month - 1) // months + 1
    if months == 1:
        return f"{start.year}-{start.month:02d}"
    if months == 12:
        return str(start.year)
    letter = {3: "Q", 6: "H"}.get(months, "P")
    return f"{start.year}-{letter}{number}"


def _relabel(direction: int) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(runs.c.id, runs.c.period_start, runs.c.window_end, runs.c.criteria)
    ).all()
    # Oldest first when moving back (newest first forward): the unique labels never clash.
    rows.sort(key=lambda row: _aware(row.period_start), reverse=direction > 0)
    for row in rows:
        start, window_end = _aware(row.period_start), _aware(row.window_end)
        old_style = window_end == start
        if (direction < 0) != old_style:
            continue  # already in the wanted form
        months = int((row.criteria or {}).get("period_months", 3))
        new_start = _shift(start, direction * months)
        connection.execute(
            sa.update(runs)
            .where(runs.c.id == row.id)
            .values(
                period=_label(new_start, months),
                period_start=new_start,
                period_end=_shift(new_start, months),
            )
        )


def upgrade():
    _relabel(-1)


def downgrade():
    _relabel(+1)
