"""ledger_post in fewer statements, its lists as text

Revision ID: i23_ledger2
Revises: i23_reach
Create Date: 2026-12-07 15:00:00.000000

Profiled at 4 threads (bench/ledger.py, py-spy and perf): a posting cost its client about twice
a bare INSERT + COMMIT and the database about three times one. In the database, i23_ledger's
function ran nine statements per posting of three lines (a SELECT … FOR NO KEY UPDATE per
account, then an UPDATE of the same row, the transaction, the entries, an INSERT … ON CONFLICT
per hot account, a RETURN QUERY), each paying the executor's start-up. Now:

- an account that keeps its own balance is checked, locked and changed by one UPDATE whose
  WHERE holds the floor (`allow_negative OR balance + change >= 0`; PostgreSQL re-checks it on
  the newest row version when it had to wait for the lock), still one account at a time in
  code order, so two postings never deadlock;
- a hot account's shard is changed by a plain UPDATE (the INSERT … ON CONFLICT only when the
  unit's shard row does not exist yet), which also finds the account's id;
- the outcome comes back in OUT parameters, not a one-row table.

The order stays that of the other posting paths (payouts.ledger `_write`, `post_many`): the own
accounts in code order, the key, the hot accounts' shards, the entries. What a call did before
it finds an account missing, one short, or its key taken is undone within the call, so the
caller's transaction goes on as if nothing had been written.

In the client, psycopg adapted i23_ledger's five array parameters in Python (about a third of
the call's client CPU); the lists are now comma-separated text (account codes never hold a
comma: payouts.ledger.ACCOUNT_TYPES), split by the function in C.
"""

import importlib.util
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = "i23_ledger2"
down_revision = "i23_reach"
branch_labels = None
depends_on = None

OLD_SIGNATURE = (
    "ledger_post(text, text, text, text, bigint, bigint, timestamptz, smallint, "
    "text[], bigint[], text[], bigint[], text[])"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {OLD_SIGNATURE}")
        op.execute(LEDGER_POST)


LEDGER_POST = """
CREATE FUNCTION ledger_post(
    p_key text, p_kind text, p_currency text, p_memo text, p_job_id bigint,
    p_member_id bigint, p_created_at timestamptz, p_shard smallint,
    p_codes text, p_own integer, p_changes text, p_lines text, p_amounts text,
    OUT transaction_id bigint, OUT outcome text, OUT account text, OUT balance bigint
) LANGUAGE plpgsql AS $$
-- p_codes: the posting's accounts, comma-separated: first the p_own ones that keep their
-- balance on their own row, then the hot ones (balance on shard rows), each group in code
-- order; p_changes: the change of each one's balance (in its normal direction); p_lines and
-- p_amounts: per line the position of its account in p_codes and its amount.
-- outcome: 'posted' (transaction_id), 'exists' (the key was taken), 'missing' (an account
-- does not exist yet), 'short' (account would go below zero, balance is its balance).
DECLARE
    v_codes text[] := string_to_array(p_codes, ',');
    v_changes bigint[] := string_to_array(p_changes, ',')::bigint[];
    v_ids bigint[];
    v_id bigint;
BEGIN
    FOR i IN 1 .. p_own LOOP
        UPDATE ledger_accounts a SET balance = a.balance + v_changes[i]
         WHERE a.code = v_codes[i] AND a.currency = p_currency
           AND (a.allow_negative OR a.balance + v_changes[i] >= 0)
        RETURNING a.id INTO v_id;
        IF NOT FOUND THEN
            SELECT a.balance INTO balance FROM ledger_accounts a
             WHERE a.code = v_codes[i] AND a.currency = p_currency;
            outcome := CASE WHEN FOUND THEN 'short' ELSE 'missing' END;
            account := v_codes[i];
            FOR j IN 1 .. i - 1 LOOP
                UPDATE ledger_accounts a SET balance = a.balance - v_changes[j]
                 WHERE a.id = v_ids[j];
            END LOOP;
            RETURN;
        END IF;
        v_ids[i] := v_id;
    END LOOP;
    INSERT INTO ledger_transactions (key, kind, currency, memo, job_id, member_id, created_at)
    VALUES (p_key, p_kind, p_currency, p_memo, p_job_id, p_member_id, p_created_at)
    ON CONFLICT (key) DO NOTHING
    RETURNING id INTO transaction_id;
    IF transaction_id IS NULL THEN
        FOR j IN 1 .. p_own LOOP
            UPDATE ledger_accounts a SET balance = a.balance - v_changes[j] WHERE a.id = v_ids[j];
        END LOOP;
        outcome := 'exists';
        RETURN;
    END IF;
    FOR i IN p_own + 1 .. cardinality(v_codes) LOOP
        UPDATE ledger_balance_shards s SET balance = s.balance + v_changes[i]
          FROM ledger_accounts a
         WHERE a.code = v_codes[i] AND a.currency = p_currency
           AND s.account_id = a.id AND s.shard = p_shard
        RETURNING a.id INTO v_id;
        IF NOT FOUND THEN
            SELECT a.id INTO v_id FROM ledger_accounts a
             WHERE a.code = v_codes[i] AND a.currency = p_currency;
            IF NOT FOUND THEN
                FOR j IN p_own + 1 .. i - 1 LOOP
                    UPDATE ledger_balance_shards s SET balance = s.balance - v_changes[j]
                     WHERE s.account_id = v_ids[j] AND s.shard = p_shard;
                END LOOP;
                FOR j IN 1 .. p_own LOOP
                    UPDATE ledger_accounts a SET balance = a.balance - v_changes[j]
                     WHERE a.id = v_ids[j];
                END LOOP;
                DELETE FROM ledger_transactions t WHERE t.id = ledger_post.transaction_id;
                transaction_id := NULL;
                outcome := 'missing';
                account := v_codes[i];
                RETURN;
            END IF;
            INSERT INTO ledger_balance_shards AS s (account_id, shard, balance)
            VALUES (v_id, p_shard, v_changes[i])
            ON CONFLICT (account_id, shard) DO UPDATE SET balance = s.balance + excluded.balance;
        END IF;
        v_ids[i] := v_id;
    END LOOP;
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT ledger_post.transaction_id, v_ids[l.pos], l.amount
      FROM unnest(string_to_array(p_lines, ',')::int[], string_to_array(p_amounts, ',')::bigint[])
           WITH ORDINALITY AS l (pos, amount, n)
     ORDER BY l.n;
    outcome := 'posted';
END $$
"""


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION ledger_post(text, text, text, text, bigint, bigint, timestamptz, "
            "smallint, text, integer, text, text, text)"
        )
        op.execute(_previous().LEDGER_POST)


def _previous():
    """i23_ledger's module (its LEDGER_POST): migration files are not a package."""
    path = Path(__file__).with_name("i23_ledger.py")
    spec = importlib.util.spec_from_file_location("i23_ledger_previous", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
