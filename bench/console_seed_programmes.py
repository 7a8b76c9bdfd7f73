"""The programmes' rows for the console benchmark, set-based: mentors, mentorships, a
top-performer run with its decisions and badges, events with invitations.

Members are 1..M (bench/console_pages.py); a quarter of them are Starters (level rank 1, g % 4 =
0). Every 200th member (g % 200 = 1, no Starter) mentors (capacity 4, DE); Starters with g % 8 = 0
have a
mentorship (mostly active, some proposed, ended or graduated) with the mentor g picks, the rest
wait unmatched. One finished run evaluated every 5th member (a decision each, figures as the
run writes them; the top 2 % awarded with a badge in force); 30 events, the next ones
published, with invitations to the mentors.
"""

from __future__ import annotations

STEPS = (
    (
        "mentor profiles",
        """
INSERT INTO mentor_profiles (member_id, opted_in, capacity, countries, max_distance_km,
                             created_at, updated_at)
SELECT g, true, 4, '["DE"]', 50, now(), now()
  FROM generate_series(201, %(m)s, 200) g""",
    ),
    (
        "mentorships",
        """
WITH mentors AS (
  SELECT row_number() OVER (ORDER BY member_id) - 1 AS n, member_id FROM mentor_profiles
), starters AS (
  SELECT g, row_number() OVER (ORDER BY g) - 1 AS n
    FROM generate_series(1, %(m)s) g
   WHERE g %% 8 = 0
)
INSERT INTO mentorships (mentor_id, mentee_id, status, origin, match_details, created_at,
                         updated_at, accepted_at, ended_at, end_reason, graduated_at,
                         graduation_cause)
SELECT mentors.member_id, s.g,
       (ARRAY['active','active','active','proposed','ended','graduated'])[1 + s.n %% 6],
       'system', '{}', now() - (s.n %% 300) * interval '1 day', now(),
       CASE WHEN s.n %% 6 <> 3 THEN now() - (s.n %% 300) * interval '1 day' END,
       CASE WHEN s.n %% 6 = 4 THEN now() - interval '1 day' END,
       CASE WHEN s.n %% 6 = 4 THEN 'ended by the mentee: bench' END,
       CASE WHEN s.n %% 6 = 5 THEN now() - interval '1 day' END,
       CASE WHEN s.n %% 6 = 5 THEN 'level' END
  FROM starters s
  JOIN mentors ON mentors.n = s.n %% (SELECT count(*) FROM mentors)""",
    ),
    (
        "top-performer run",
        """
INSERT INTO top_performer_runs (period, period_start, period_end, window_start, window_end,
                                criteria, status, evaluated, awarded, created_at, finished_at)
VALUES ('2020-Q1', '2020-01-01', '2020-04-01', '2019-04-01', '2020-04-01', '{}', 'done',
        %(m)s / 5, %(m)s / 250, now(), now())""",
    ),
    (
        "decisions",
        """
INSERT INTO top_performer_decisions (run_id, member_id, category_id, region, figures,
                                     failed_gates, score, rank, cell_size, awarded)
SELECT (SELECT max(id) FROM top_performer_runs), g, %(cat)s, 'DE',
       json_build_object('jobs', 5 + g %% 40, 'rating', 4 + (g %% 10) / 10.0,
                         'rating_count', 5 + g %% 30, 'rating_sum', 100, 'cancellations', 0,
                         'cancellation_permille', g %% 50, 'offers_answered', 10,
                         'offers_accepted', 8, 'acceptance_permille', 800, 'sanctions', 0,
                         'lost_disputes', 0),
       CASE WHEN g %% 3 = 0 THEN '["volume"]'::json ELSE '[]'::json END,
       CASE WHEN g %% 3 <> 0 THEN 4 + (g %% 10) / 10.0 END,
       CASE WHEN g %% 3 <> 0 THEN 1 + g / 15 END,
       CASE WHEN g %% 3 <> 0 THEN %(m)s / 15 END,
       g %% 50 = 5
  FROM generate_series(5, %(m)s, 5) g""",
    ),
    (
        "badges",
        """
INSERT INTO top_performer_badges (run_id, member_id, category_id, region, valid_from,
                                  valid_until)
SELECT run_id, member_id, category_id, region, now() - interval '10 days',
       now() + interval '170 days'
  FROM top_performer_decisions WHERE awarded""",
    ),
    (
        "events",
        """
INSERT INTO events (kind, title, starts_at, ends_at, venue, city, country, capacity, status,
                    created_by_id, created_at, updated_at)
SELECT (ARRAY['meetup','trade_fair','training'])[1 + g %% 3], 'Bench event ' || g,
       now() + (g - 10) * interval '7 days',
       now() + (g - 10) * interval '7 days' + interval '3 hours',
       'Hall ' || g, 'Berlin', 'DE', 200,
       CASE WHEN g < 10 THEN 'done' ELSE 'published' END, %(cm)s, now(), now()
  FROM generate_series(1, 30) g""",
    ),
    (
        "invitations",
        """
INSERT INTO event_invitations (event_id, member_id, status, qualifies_as, created_at)
SELECT e.id, p.member_id, 'eligible', 'mentor', now()
  FROM events e CROSS JOIN mentor_profiles p
 WHERE e.status = 'published'""",
    ),
)


def seed_programmes(conn, params: dict) -> None:
    """Write the programmes' rows (psycopg connection in autocommit; `params` has m, cat, cm)."""
    for _label, sql in STEPS:
        conn.execute(sql, params)
    for table in ("mentorships", "top_performer_runs", "top_performer_decisions",
                  "top_performer_badges", "events", "event_invitations"):  # fmt: skip
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
