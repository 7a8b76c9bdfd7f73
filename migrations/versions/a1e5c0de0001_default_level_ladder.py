"""default level ladder (rule set version 1)

A frozen copy of onboarding/levels/defaults.py as it was when this revision was written: later
changes to the ladder are new rule set versions made through the API, not edits here.

Revision ID: a1e5c0de0001
Revises: 013273498599
Create Date: 2026-11-21
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "a1e5c0de0001"
down_revision = "013273498599"
branch_labels = None
depends_on = None

LEVELS = (
    ("starter", "Starter", [], 3),
    (
        "member",
        "Member",
        [
            {"metric": "jobs_completed", "min": 10},
            {"metric": "ratings_received", "min": 5},
            {"metric": "average_rating", "min": 4.3},
            {"metric": "cancellation_rate", "max": 0.1},
            {"metric": "tenure_days", "min": 30},
        ],
        5,
    ),
    (
        "senior",
        "Senior",
        [
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
        8,
    ),
    (
        "expert",
        "Expert",
        [
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
        12,
    ),
)


def upgrade():
    rulesets = sa.table(
        "level_rulesets",
        sa.column("id", sa.BigInteger),
        sa.column("version", sa.Integer),
        sa.column("status", sa.String),
        sa.column("note", sa.String),
        sa.column("demotion_tolerance_percent", sa.SmallInteger),
        sa.column("grace_days", sa.SmallInteger),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("activated_at", sa.DateTime(timezone=True)),
    )
    levels = sa.table(
        "levels",
        sa.column("ruleset_id", sa.BigInteger),
        sa.column("rank", sa.SmallInteger),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("requirements", sa.JSON),
        sa.column("max_concurrent_jobs", sa.SmallInteger),
        sa.column("plan_codes", sa.JSON),
        sa.column("restricts_categories", sa.Boolean),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        rulesets,
        [
            {
                "id": 1,
                "version": 1,
                "status": "active",
                "note": "Default ladder",
                "demotion_tolerance_percent": 90,
                "grace_days": 14,
                "created_at": now,
                "activated_at": now,
            }
        ],
    )
    op.bulk_insert(
        levels,
        [
            {
                "ruleset_id": 1,
                "rank": rank,
                "code": code,
                "name": name,
                "requirements": requirements,
                "max_concurrent_jobs": max_jobs,
                "plan_codes": ["standard"],
                "restricts_categories": False,
            }
            for rank, (code, name, requirements, max_jobs) in enumerate(LEVELS, start=1)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The explicit id 1 above did not advance the sequence.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('level_rulesets', 'id'), "
            "(SELECT max(id) FROM level_rulesets))"
        )


def downgrade():
    op.execute("DELETE FROM levels WHERE ruleset_id = 1")
    op.execute("DELETE FROM level_rulesets WHERE id = 1")
