"""the plan follows the level: a default plan per level, the cause of a plan assignment, the
default ladder's reduced commission on its upper levels

Revision ID: i19_plans
Revises: i18_settings
Create Date: 2026-12-09 10:00:00.000000

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19_plans'
down_revision = 'i18_settings'
branch_labels = None
depends_on = None

# The default ladder (onboarding.levels.defaults), as of this revision.
LADDER_PLANS = (
    ("senior-15", "Senior 15 %", 1500),
    ("expert-10", "Expert 10 %", 1000),
)
LADDER = {
    "starter": (["standard"], "standard"),
    "member": (["standard"], "standard"),
    "senior": (["senior-15"], "senior-15"),
    "expert": (["senior-15", "expert-10"], "expert-10"),
}

plans = sa.table(
    "commission_plans",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("percent_bp", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
levels = sa.table(
    "levels",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("plan_codes", sa.JSON),
    sa.column("default_plan_code", sa.String),
)


def upgrade():
    with op.batch_alter_table('levels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_plan_code', sa.String(length=40), nullable=True))
    with op.batch_alter_table('member_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column(
            'level_change_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True
        ))
    bind = op.get_bind()
    now = datetime.now(UTC)
    stored = set(bind.execute(sa.select(plans.c.code)).scalars())
    for code, name, bp in LADDER_PLANS:
        if code not in stored:
            bind.execute(plans.insert().values(
                code=code, name=name, kind="percentage", percent_bp=bp, active=True,
                created_at=now, updated_at=now,
            ))
    # Levels the admins left as the ladder had them ("standard" only) take the ladder's plans;
    # any other level's default is "standard" when it offers it, else its first plan.
    for level_id, code, plan_codes in bind.execute(
        sa.select(levels.c.id, levels.c.code, levels.c.plan_codes)
    ).all():
        plan_codes = list(plan_codes or [])
        if code in LADDER and plan_codes == ["standard"]:
            offered, default = LADDER[code]
        else:
            offered = plan_codes
            default = "standard" if "standard" in offered else (offered[0] if offered else None)
        bind.execute(
            levels.update().where(levels.c.id == level_id)
            .values(plan_codes=offered, default_plan_code=default)
        )


def downgrade():
    with op.batch_alter_table('member_plans', schema=None) as batch_op:
        batch_op.drop_column('level_change_id')
        batch_op.drop_column('cause')
    with op.batch_alter_table('levels', schema=None) as batch_op:
        batch_op.drop_column('default_plan_code')
