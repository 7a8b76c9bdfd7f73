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
    p_codes text[], p_changes bigint[], p_split text[]
) RETURNS TABLE (transaction_id bigint, outcome text, account text, balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[] := '{}';
    v_line_ids bigint[] := '{}';
    v_id bigint;
    v_balance bigint;
    v_allow boolean;
    v_tx bigint;
BEGIN
    -- Each account by its unique (code, currency), one row at a time: a plan that can only
    -- be an index probe (a cached generic plan over arrays may scan the table). p_codes is
    -- sorted, so the accounts that keep their own balance are locked in code order.
    FOR i IN 1 .. cardinality(p_codes) LOOP
        IF p_codes[i] = ANY (p_split) THEN
            SELECT a.id, a.balance, a.allow_negative INTO v_id, v_balance, v_allow
              FROM ledger_accounts a WHERE a.code = p_codes[i] AND a.currency = p_currency;
        ELSE
            SELECT a.id, a.balance, a.allow_negative INTO v_id, v_balance, v_allow
              FROM ledger_accounts a WHERE a.code = p_codes[i] AND a.currency = p_currency
               FOR NO KEY UPDATE;
        END IF;
        IF NOT FOUND THEN
            RETURN QUERY SELECT NULL::bigint, 'missing'::text, NULL::text, NULL::bigint;
            RETURN;
        END IF;
        IF NOT v_allow AND v_balance + p_changes[i] < 0 THEN
            RETURN QUERY SELECT NULL::bigint, 'short'::text, p_codes[i], v_balance;
            RETURN;
        END IF;
        v_ids := v_ids || v_id;
    END LOOP;
    INSERT INTO ledger_transactions (key, kind, currency, memo, job_id, member_id, created_at)
    VALUES (p_key, p_kind, p_currency, p_memo, p_job_id, p_member_id, p_created_at)
    ON CONFLICT (key) DO NOTHING
    RETURNING id INTO v_tx;
    IF v_tx IS NULL THEN
        RETURN QUERY SELECT NULL::bigint, 'exists'::text, NULL::text, NULL::bigint;
        RETURN;
    END IF;
    FOR j IN 1 .. cardinality(p_line_codes) LOOP
        v_line_ids := v_line_ids || v_ids[array_position(p_codes, p_line_codes[j])];
    END LOOP;
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT v_tx, l.id, l.amount
      FROM unnest(v_line_ids, p_line_amounts) WITH ORDINALITY AS l (id, amount, n)
     ORDER BY l.n;
    FOR i IN 1 .. cardinality(p_codes) LOOP
        CONTINUE WHEN p_changes[i] = 0;
        IF p_codes[i] = ANY (p_split) THEN
            INSERT INTO ledger_balance_shards (account_id, shard, balance)
            VALUES (v_ids[i], p_shard, p_changes[i])
            ON CONFLICT (account_id, shard)
            DO UPDATE SET balance = ledger_balance_shards.balance + excluded.balance;
        ELSE
            UPDATE ledger_accounts SET balance = ledger_accounts.balance + p_changes[i]
             WHERE id = v_ids[i];
        END IF;
    END LOOP;
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
