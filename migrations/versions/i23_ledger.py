"""Ledger hot accounts: the platform's floorless accounts keep their balance on shard rows

Revision ID: i23_ledger
Revises: i22_tally
Create Date: 2026-12-07 05:00:00.000000

Almost every posting takes a line of platform:revenue, platform:fees or clearing:payments;
with their balance on one row, every posting queued on that row's lock. Their balance is now
the row's (what it was until now) plus the sum of up to 16 shard rows, each unit of work
adding to one of them (payouts.ledger._post). Nothing moves: existing balances stay on the
account rows.

On PostgreSQL a posting is one call of the function ledger_post (payouts.ledger explains it):
lock, check the floors, write once per key — one round trip.
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LEDGER_POST)


LEDGER_POST = """
CREATE FUNCTION ledger_post(
    p_key text, p_kind text, p_currency text, p_memo text, p_job_id bigint,
    p_member_id bigint, p_created_at timestamptz, p_shard smallint,
    p_line_codes text[], p_line_amounts bigint[],
    p_codes text[], p_changes bigint[], p_locked text[], p_split text[]
) RETURNS TABLE (transaction_id bigint, outcome text, account text, balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_known integer;
    v_short record;
    v_tx bigint;
BEGIN
    -- The accounts that keep their own balance, locked in code order (the ledger's order).
    PERFORM 1 FROM ledger_accounts a
     WHERE a.currency = p_currency AND a.code = ANY (p_locked)
     ORDER BY a.code FOR NO KEY UPDATE;
    SELECT count(*) INTO v_known FROM ledger_accounts a
     WHERE a.currency = p_currency AND a.code = ANY (p_codes);
    IF v_known < cardinality(p_codes) THEN
        RETURN QUERY SELECT NULL::bigint, 'missing'::text, NULL::text, NULL::bigint;
        RETURN;
    END IF;
    SELECT a.code, a.balance INTO v_short
      FROM ledger_accounts a JOIN unnest(p_codes, p_changes) AS c (code, change)
        ON c.code = a.code
     WHERE a.currency = p_currency AND NOT a.allow_negative AND a.balance + c.change < 0
     ORDER BY a.code LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT NULL::bigint, 'short'::text, v_short.code::text, v_short.balance;
        RETURN;
    END IF;
    INSERT INTO ledger_transactions (key, kind, currency, memo, job_id, member_id, created_at)
    VALUES (p_key, p_kind, p_currency, p_memo, p_job_id, p_member_id, p_created_at)
    ON CONFLICT (key) DO NOTHING
    RETURNING id INTO v_tx;
    IF v_tx IS NULL THEN
        RETURN QUERY SELECT NULL::bigint, 'exists'::text, NULL::text, NULL::bigint;
        RETURN;
    END IF;
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT v_tx, a.id, l.amount
      FROM unnest(p_line_codes, p_line_amounts) WITH ORDINALITY AS l (code, amount, n)
      JOIN ledger_accounts a ON a.currency = p_currency AND a.code = l.code
     ORDER BY l.n;
    UPDATE ledger_accounts a SET balance = a.balance + c.change
      FROM unnest(p_codes, p_changes) AS c (code, change)
     WHERE a.currency = p_currency AND a.code = c.code AND c.change <> 0
       AND NOT (c.code = ANY (p_split));
    INSERT INTO ledger_balance_shards (account_id, shard, balance)
    SELECT a.id, p_shard, c.change
      FROM unnest(p_codes, p_changes) AS c (code, change)
      JOIN ledger_accounts a ON a.currency = p_currency AND a.code = c.code
     WHERE c.change <> 0 AND c.code = ANY (p_split)
     ORDER BY a.id
    ON CONFLICT (account_id, shard)
    DO UPDATE SET balance = ledger_balance_shards.balance + excluded.balance;
    RETURN QUERY SELECT v_tx, 'posted'::text, NULL::text, NULL::bigint;
END $$
"""


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ledger_post")
    # Fold the shards back into the account rows before dropping them.
    op.execute(
        "UPDATE ledger_accounts SET balance = balance + (SELECT coalesce(sum(s.balance), 0) "
        "FROM ledger_balance_shards s WHERE s.account_id = ledger_accounts.id)"
    )
    op.drop_table("ledger_balance_shards")
