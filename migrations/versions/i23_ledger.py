"""Ledger hot accounts: the platform's floorless accounts keep their balance on shard rows

Revision ID: i23_ledger
Revises: i22_tally
Create Date: 2026-12-07 05:00:00.000000

Almost every posting takes a line of platform:revenue, platform:fees or clearing:payments;
with their balance on one row, every posting queued on that row's lock. Their balance is now
the row's (what it was until now) plus the sum of up to 16 shard rows, each unit of work
adding to one of them (payouts.ledger._post). Nothing moves: existing balances stay on the
account rows.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i23_ledger"
down_revision = "i22_tally"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_balance_shards",
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_balance_shards_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "shard", name=op.f("pk_ledger_balance_shards")),
    )


def downgrade():
    # Fold the shards back into the account rows before dropping them.
    op.execute(
        "UPDATE ledger_accounts SET balance = balance + (SELECT coalesce(sum(s.balance), 0) "
        "FROM ledger_balance_shards s WHERE s.account_id = ledger_accounts.id)"
    )
    op.drop_table("ledger_balance_shards")
