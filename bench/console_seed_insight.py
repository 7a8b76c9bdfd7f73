"""The rows the Insight dashboard reads that the console benchmark's seeding lacks, set-based:
two claimed skills per member, an approved application with the status change and the first
level at approval (spread over the last 300 days, so the 90-day retention has a cohort), a
promotion for a third of them, a pause for a tenth, the first offer of every assigned job
(1–90 minutes after posting) and a customer's rating of every closed ticket."""

from __future__ import annotations

from bench.console_seed_onboarding import OPEN_EVERY

APPROVED = "now() - (m.id %% 300) * interval '1 day' - (m.id %% 997) * interval '1 minute'"


def insight_steps(members: int) -> list[tuple]:
    """(label, SQL, parameters) to run after the console benchmark's own steps."""
    p = {"m": members}
    return [
        (
            "member skills",
            """
INSERT INTO member_skills (member_id, skill_id, proficiency, verified)
SELECT DISTINCT m.id, s.id, 1, false
  FROM members m
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
          FROM skills) s
    ON s.k = m.id %% s.n OR s.k = (m.id * 7 + 3) %% s.n
ON CONFLICT DO NOTHING""",
            p,
        ),
        (
            "applications",
            f"""
INSERT INTO applications (member_id, number, status, opened_at, decided_at, source)
SELECT m.id, 1, 'approved', {APPROVED} - interval '10 days', {APPROVED}, 'organic'
  FROM members m
 -- one in OPEN_EVERY has an application under way (console_seed_onboarding.py)
 WHERE m.id %% {OPEN_EVERY} <> 0""",
            p,
        ),
        (
            "status changes",
            f"""
INSERT INTO member_status_changes (member_id, from_status, to_status, reason, created_at)
SELECT m.id, 'applicant', 'active', 'approved', {APPROVED} FROM members m
UNION ALL
SELECT m.id, 'active', 'paused', 'holiday', {APPROVED} + interval '30 days'
  FROM members m WHERE m.id %% 10 = 0""",
            p,
        ),
        (
            "level changes",
            f"""
INSERT INTO level_changes (member_id, from_rank, to_rank, from_code, to_code, ruleset_version,
                           cause, metrics, created_at)
SELECT m.id, 0, 1, NULL, 'starter', 1, 'approval', '{{}}'::json, {APPROVED} FROM members m
UNION ALL
SELECT m.id, 1, 2, 'starter', 'pro', 1, 'daily', '{{}}'::json,
       {APPROVED} + (10 + m.id %% 40) * interval '1 day'
  FROM members m WHERE m.id %% 3 = 0 AND m.id %% 300 > 50""",
            p,
        ),
        (
            "offers",
            """
INSERT INTO offers (job_id, member_id, wave, exclusive, score, status, sent_at, expires_at,
                    responded_at, updated_at)
SELECT j.id, j.assigned_member_id, 1, false, 0.5, 'accepted',
       j.created_at + (1 + j.id %% 90) * interval '1 minute',
       j.created_at + (1 + j.id %% 90) * interval '1 minute' + interval '1 hour',
       j.created_at + (2 + j.id %% 90) * interval '1 minute', j.created_at
  FROM jobs j WHERE j.assigned_member_id IS NOT NULL""",
            p,
        ),
        (
            "ticket ratings",
            """
INSERT INTO ticket_ratings (ticket_id, party, user_id, score, created_at)
SELECT t.id, 'customer', c.user_id, 1 + t.id %% 5, COALESCE(t.closed_at, t.updated_at)
  FROM tickets t JOIN customers c ON c.id = t.customer_id
 WHERE t.status = 'closed'""",
            p,
        ),
    ]
