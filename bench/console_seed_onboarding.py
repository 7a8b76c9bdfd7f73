"""Set-based seeding of the onboarding review for bench/console_pages.py: an application for
every member — approved for most, under way for one in 20 (5,000 at 100k members), each of
those with a claimed skill and weekly availability, half with an identity document (verified
or waiting for its check), a quarter with an intro call scheduled or passed — opened over the
last 60 days, so the queue's tabs, filters and waiting times have something to count."""

from __future__ import annotations

import psycopg

from bench.pgdb import plain_url

# One in OPEN_EVERY members has an application under way.
OPEN_EVERY = 20

STEPS = [
    (
        "applications",
        """
INSERT INTO applications (member_id, number, status, opened_at, decided_at, source)
SELECT g, 1, CASE WHEN g %% %(every)s = 0 THEN 'in_progress' ELSE 'approved' END,
       now() - ((g * 7) %% 1440) * interval '1 hour',
       CASE WHEN g %% %(every)s = 0 THEN NULL ELSE now() - interval '1 hour' END, 'organic'
  FROM generate_series(1, %(m)s) g
-- Insight's seeding (console_seed_insight.py) approved the others earlier, spread over a year.
ON CONFLICT (member_id, number) DO NOTHING""",
    ),
    (
        "applicant skills",
        """
INSERT INTO member_skills (member_id, skill_id, proficiency, verified)
SELECT g, (SELECT id FROM skills ORDER BY id OFFSET (g / %(every)s) %% 5 LIMIT 1), 2, false
  FROM generate_series(%(every)s::int, %(m)s::int, %(every)s::int) g
ON CONFLICT DO NOTHING""",
    ),
    (
        "applicant availability",
        """
INSERT INTO availability_slots (member_id, weekday, start_minute, end_minute)
SELECT g, (g / %(every)s) %% 5, 480, 1080
  FROM generate_series(%(every)s::int, %(m)s::int, %(every)s::int) g""",
    ),
    (
        "identity documents",
        """
INSERT INTO document_checks (member_id, kind, document_type, issuer, issuing_country,
                             reference_hint, expires_on, status, submitted_at, checked_by_id,
                             checked_at)
SELECT g, 'identity', 'id_card', 'Bürgeramt Berlin', 'DE', lpad((g %% 10000)::text, 4, '0'),
       current_date + 900, CASE WHEN g %% 4 = 0 THEN 'verified' ELSE 'submitted' END,
       now() - interval '2 days', CASE WHEN g %% 4 = 0 THEN %(cm)s END,
       CASE WHEN g %% 4 = 0 THEN now() - interval '1 day' END
  FROM generate_series(%(every)s::int, %(m)s::int, %(every)s::int * 2) g""",
    ),
    (
        "intro calls",
        """
INSERT INTO intro_calls (application_id, member_id, scheduled_at, scheduled_by_id, status, note,
                         recorded_by_id, recorded_at, created_at)
SELECT a.id, a.member_id, now() + ((a.member_id %% 7) - 3) * interval '1 day', %(cm)s,
       CASE WHEN a.member_id %% 3 = 0 THEN 'passed' ELSE 'scheduled' END,
       CASE WHEN a.member_id %% 3 = 0 THEN 'Clear and friendly.' END,
       CASE WHEN a.member_id %% 3 = 0 THEN %(cm)s END,
       CASE WHEN a.member_id %% 3 = 0 THEN now() END, now() - interval '3 days'
  FROM applications a
 WHERE a.status = 'in_progress' AND a.member_id %% (%(every)s * 4) = 0""",
    ),
]


def seed_onboarding(url: str, members: int, cm_id: int) -> int:
    """Write the rows; the id of one application under way (for the application page)."""
    params = {"m": members, "every": OPEN_EVERY, "cm": cm_id}
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        for label, sql in STEPS:
            conn.execute(sql, params)
            print(f"  seeded {label}", flush=True)
        for table in ("applications", "availability_slots", "document_checks", "intro_calls"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute(
            "ANALYZE applications, member_skills, availability_slots, document_checks, intro_calls"
        )
        return conn.execute(
            "SELECT a.id FROM applications a JOIN intro_calls c ON c.application_id = a.id "
            "WHERE a.status = 'in_progress' ORDER BY a.id LIMIT 1"
        ).fetchone()[0]
