"""Bench seeding for the console's payouts page (bench/console_pages.py): weekly payout runs and
their payouts, set-based. Each of RUNS runs pays every fourth member (a different quarter each
week), 2 % of them held; older runs' payouts paid, the newest one's still in transit."""

from __future__ import annotations

import psycopg

from bench.pgdb import plain_url

RUNS = 8


def seed_payouts(url: str, members: int) -> None:
    """RUNS completed payout runs, one a week back from now, and about members / 4 payouts
    each (so 200,000 payouts at 100,000 members)."""
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute(
            """
INSERT INTO payout_runs (id, status, started_at, finished_at, minimums, totals, created_at,
                         updated_at)
SELECT r, 'completed', now() - (%(runs)s - r) * interval '7 days',
       now() - (%(runs)s - r) * interval '7 days' + interval '5 minutes', '{"EUR": 2000}',
       '{}', now() - (%(runs)s - r) * interval '7 days', now()
  FROM generate_series(1, %(runs)s) r""",
            {"runs": RUNS},
        )
        conn.execute(
            """
INSERT INTO payouts (run_id, member_id, amount, currency, status, hold_reason, provider, attempts,
                     sent_at, paid_at, created_at, updated_at)
SELECT r.id, m, 2000 + (m * 37) %% 30000, 'EUR',
       CASE WHEN m %% 50 = 0 THEN 'held' WHEN r.id = %(runs)s THEN 'in_transit' ELSE 'paid' END,
       CASE WHEN m %% 50 = 0 THEN 'open dispute' END, 'offline', 1,
       CASE WHEN m %% 50 <> 0 THEN r.created_at END,
       CASE WHEN m %% 50 <> 0 AND r.id < %(runs)s THEN r.created_at + interval '2 days' END,
       r.created_at, now()
  FROM payout_runs r, generate_series(1, %(m)s) m
 WHERE m %% 4 = r.id %% 4""",
            {"runs": RUNS, "m": members},
        )
        conn.execute(
            """
UPDATE payout_runs r SET totals = t.totals FROM (
  SELECT run_id, jsonb_build_object('EUR', jsonb_build_object(
           'count', count(*) FILTER (WHERE status <> 'held'),
           'amount', coalesce(sum(amount) FILTER (WHERE status <> 'held'), 0),
           'held_count', count(*) FILTER (WHERE status = 'held'),
           'held_amount', coalesce(sum(amount) FILTER (WHERE status = 'held'), 0))) AS totals
    FROM payouts GROUP BY run_id) t
 WHERE t.run_id = r.id"""
        )
        for table in ("payout_runs", "payouts"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute("ANALYZE payout_runs")
        conn.execute("ANALYZE payouts")
