"""onboarding review in the console: "ask for more information" on an application

Revision ID: i22_oinfo
Revises: i21_cperf
Create Date: 2026-12-07 01:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i22_oinfo"
down_revision = "i21_cperf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "application_info_requests",
        sa.Column("application_id", BigId, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("requested_by_id", BigId, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_info_requests_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_application_info_requests_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_application_info_requests_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_info_requests")),
    )
    op.create_index(
        "ix_application_info_requests_application",
        "application_info_requests",
        ["application_id", "id"],
    )


def downgrade():
    op.drop_index(
        "ix_application_info_requests_application", table_name="application_info_requests"
    )
    op.drop_table("application_info_requests")
