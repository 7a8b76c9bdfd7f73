"""Rows the dispatch pages need on the console benchmark's database (set-based, after
bench/console_pages.py's own seeding): a window for every job waiting for a member, the job
events of posting and of the first wave, three pending offers for each offered job, and a
third of the members holding the category's first skill (verified) with a week of
availability. The waiting jobs move to 52.0 N 13.0 E, where the seeded members' grid has
members in reach (around Berlin's centre it has none), so a job's page ranks and explains
real candidates."""

from __future__ import annotations

WAITING = "j.status IN ('open', 'offered')"


def dispatch_steps(members: int, category_id: int) -> list[tuple]:
    """(label, SQL, parameters) in order, run after the jobs are in."""
    p = {"m": members, "cat": category_id}
    skill = "(SELECT min(id) FROM skills WHERE category_id = %(cat)s)"
    return [
        (
            "waiting jobs' place",
            f"UPDATE jobs j SET lat = 52.0, lon = 13.0 WHERE {WAITING}",
            p,
        ),
        (
            "job windows",
            f"""
INSERT INTO job_windows (job_id, starts_at, ends_at)
SELECT j.id, now() + (1 + j.id %% 10) * interval '1 day',
       now() + (1 + j.id %% 10) * interval '1 day' + interval '4 hours'
  FROM jobs j WHERE {WAITING}""",
            p,
        ),
        (
            "job events",
            f"""
INSERT INTO job_events (job_id, action, from_status, to_status, actor, detail, created_at)
SELECT j.id, 'post', NULL, 'open', 'customer', '{{}}'::json, j.created_at
  FROM jobs j WHERE {WAITING}
UNION ALL
SELECT j.id, 'dispatch', 'open', 'offered', 'system', '{{"wave": 1}}'::json,
       j.created_at + (1 + j.id %% 9) * interval '1 minute'
  FROM jobs j WHERE {WAITING} AND (j.status = 'offered' OR j.escalated_at IS NOT NULL)""",
            p,
        ),
        (
            "offers",
            """
INSERT INTO offers (job_id, member_id, wave, exclusive, score, status, sent_at, expires_at,
                    updated_at)
SELECT j.id, 1 + (j.id * 31 + n * 7717) %% %(m)s, 1, false, 50, 'pending', j.created_at,
       now() + interval '4 hours', now()
  FROM jobs j, generate_series(0, 2) n WHERE j.status = 'offered'""",
            p,
        ),
        (
            "member skills",
            f"""
INSERT INTO member_skills (member_id, skill_id, proficiency, verified)
SELECT g, {skill}, 2, true FROM generate_series(3, %(m)s, 3) g
ON CONFLICT (member_id, skill_id) DO UPDATE SET proficiency = 2, verified = true""",
            p,
        ),
        (
            "availability",
            """
INSERT INTO availability_slots (member_id, weekday, start_minute, end_minute)
SELECT g, d, 0, 1440 FROM generate_series(3, %(m)s, 3) g, generate_series(0, 6) d""",
            p,
        ),
    ]
