"""The ladder a fresh installation starts with (rule set version 1, written by the migration).

Admins change it by creating a new rule set version (POST /api/v1/level-rulesets), dry-running
it and activating it; this module documents the starting point and feeds the demo data.
"""

from onboarding.models import Level, LevelRuleset

DEFAULT_TOLERANCE_PERCENT = 90
DEFAULT_GRACE_DAYS = 14

DEFAULT_LEVELS = (
    {
        "rank": 1,
        "code": "starter",
        "name": "Starter",
        "requirements": [],
        "max_concurrent_jobs": 3,
        "plan_codes": ["standard"],
    },
    {
        "rank": 2,
        "code": "member",
        "name": "Member",
        "requirements": [
            {"metric": "jobs_completed", "min": 10},
            {"metric": "ratings_received", "min": 5},
            {"metric": "average_rating", "min": 4.3},
            {"metric": "cancellation_rate", "max": 0.1},
            {"metric": "tenure_days", "min": 30},
        ],
        "max_concurrent_jobs": 5,
        "plan_codes": ["standard"],
    },
    {
        "rank": 3,
        "code": "senior",
        "name": "Senior",
        "requirements": [
            {"metric": "jobs_completed", "min": 50},
            {"metric": "ratings_received", "min": 20},
            {"metric": "average_rating", "min": 4.6},
            {"metric": "cancellation_rate", "max": 0.05},
            {"metric": "acceptance_rate", "min": 0.6},
            {"metric": "dispute_rate", "max": 0.05},
            {"metric": "tenure_days", "min": 180},
            {"metric": "verified_skills", "min": 2},
            {"metric": "training_modules", "min": 2},
        ],
        "max_concurrent_jobs": 8,
        "plan_codes": ["standard"],
    },
    {
        "rank": 4,
        "code": "expert",
        "name": "Expert",
        "requirements": [
            {"metric": "jobs_completed", "min": 200},
            {"metric": "ratings_received", "min": 80},
            {"metric": "average_rating", "min": 4.8},
            {"metric": "cancellation_rate", "max": 0.03},
            {"metric": "acceptance_rate", "min": 0.7},
            {"metric": "dispute_rate", "max": 0.02},
            {"metric": "disputes_lost", "max": 1},
            {"metric": "tenure_days", "min": 365},
            {"metric": "verified_skills", "min": 4},
            {"metric": "training_modules", "min": 4},
        ],
        "max_concurrent_jobs": 12,
        "plan_codes": ["standard"],
    },
)


def default_ruleset():
    """Rule set version 1 as ORM rows (what the migration writes), e.g. after a test's truncate."""
    return LevelRuleset(
        version=1,
        status="active",
        note="Default ladder",
        demotion_tolerance_percent=DEFAULT_TOLERANCE_PERCENT,
        grace_days=DEFAULT_GRACE_DAYS,
        levels=[Level(**level) for level in DEFAULT_LEVELS],
    )
