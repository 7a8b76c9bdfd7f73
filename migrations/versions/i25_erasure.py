"""privacy: erasures, one per account anonymised on request (ids, reason, counts)

Revision ID: i25_erasure
Revises: i25_exports
Create Date: 2026-12-07 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i25_erasure"
down_revision = "i25_exports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasures",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("requested_by_id", BigId, nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint("via IN ('self', 'admin')", name=op.f("ck_erasures_via_known")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_erasures_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_erasures_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("user_id", name=op.f("uq_erasures_user_id")),
    )
    op.create_index(
        op.f("ix_erasures_requested_by_id"), "erasures", ["requested_by_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_erasures_requested_by_id"), table_name="erasures")
    op.drop_table("erasures")
