"""The ladder a fresh installation starts with (rule set version 1, written by the migration).

Admins change it by creating a new rule set version (POST /api/v1/level-rulesets), dry-running
it and activating it; this module documents the starting point and feeds the demo data.
"""

from sqlalchemy import select

from crowd.extensions import db
from onboarding.models import Level, LevelRuleset
from payouts.models.plans import CommissionPlan

DEFAULT_TOLERANCE_PERCENT = 90
DEFAULT_GRACE_DAYS = 14

# The reduced commission the upper levels earn (quality → level → commission): stored by the
# migration, and by ensure_ladder_plan when a database emptied since needs one.
LADDER_PLANS = {
    "senior-15": {"name": "Senior 15 %", "kind": "percentage", "percent_bp": 1500},
    "expert-10": {"name": "Expert 10 %", "kind": "percentage", "percent_bp": 1000},
}

DEFAULT_LEVELS = (
    {
        "rank": 1,
        "code": "starter",
        "name": "Starter",
        "requirements": [],
        "max_concurrent_jobs": 3,
        "plan_codes": ["standard"],
        "default_plan_code": "standard",
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
        "default_plan_code": "standard",
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
        "plan_codes": ["senior-15"],
        "default_plan_code": "senior-15",
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
        "plan_codes": ["senior-15", "expert-10"],
        "default_plan_code": "expert-10",
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


def ensure_ladder_plan(code: str) -> CommissionPlan | None:
    """The stored plan `code`; one of LADDER_PLANS is stored if missing (the caller commits)."""
    plan = db.session.scalar(select(CommissionPlan).where(CommissionPlan.code == code))
    if plan is None and code in LADDER_PLANS:
        plan = CommissionPlan(code=code, active=True, **LADDER_PLANS[code])
        db.session.add(plan)
        db.session.flush()
    return plan
