"""organisations: provider companies, their memberships (one active per member, partial
unique index) and invitations by email link (only the token's hash kept)

Revision ID: i26_orgs
Revises: i25_erasure
Create Date: 2026-12-07 18:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)

# revision identifiers, used by Alembic.
revision = "i26_orgs"
down_revision = "i25_erasure"
branch_labels = None
depends_on = None

ACTIVE = "status = 'active'"


def upgrade():
    op.create_table(
        "organisations",
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("trade_name", sa.String(length=200), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_id", sa.String(length=40), nullable=True),
        sa.Column("tax_number", sa.String(length=40), nullable=True),
        sa.Column("register_court", sa.String(length=120), nullable=True),
        sa.Column("register_number", sa.String(length=40), nullable=True),
        sa.Column("insurance_file_id", BigId, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("allow_direct_accept", sa.Boolean(), nullable=False),
        sa.Column("status_changed_at", When, nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.Column("created_at", When, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", When, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'suspended', 'closed')",
            name=op.f("ck_organisations_status_known"),
        ),
        sa.CheckConstraint(
            "country IN ('DE', 'AT', 'CH')", name=op.f("ck_organisations_country_known")
        ),
        sa.CheckConstraint(
            "vat_id IS NOT NULL OR tax_number IS NOT NULL",
            name=op.f("ck_organisations_tax_id_given"),
        ),
        sa.CheckConstraint(
            "(register_court IS NULL) = (register_number IS NULL)",
            name=op.f("ck_organisations_register_whole"),
        ),
        sa.ForeignKeyConstraint(
            ["insurance_file_id"],
            ["stored_files.id"],
            name=op.f("fk_organisations_insurance_file_id_stored_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_index("ix_organisations_status", "organisations", ["status"])
    op.create_table(
        "organisation_memberships",
        sa.Column("organisation_id", BigId, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("joined_at", When, nullable=False),
        sa.Column("left_at", When, nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'dispatcher', 'technician')",
            name=op.f("ck_organisation_memberships_role_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'left', 'removed')",
            name=op.f("ck_organisation_memberships_status_known"),
        ),
        sa.CheckConstraint(
            "(status = 'active') = (left_at IS NULL)",
            name=op.f("ck_organisation_memberships_left_when_ended"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_organisation_memberships_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_memberships_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_memberships")),
    )
    op.create_index(
        op.f("ix_organisation_memberships_member_id"), "organisation_memberships", ["member_id"]
    )
    op.create_index(
        "ix_organisation_memberships_organisation",
        "organisation_memberships",
        ["organisation_id", "status"],
    )
    # One active membership per member, whatever the service does.
    op.create_index(
        "uq_organisation_memberships_one_active",
        "organisation_memberships",
        ["member_id"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    op.create_table(
        "organisation_invitations",
        sa.Column("organisation_id", BigId, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", BigId, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("accepted_at", When, nullable=True),
        sa.Column("accepted_member_id", BigId, nullable=True),
        sa.Column("revoked_at", When, nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'dispatcher', 'technician')",
            name=op.f("ck_organisation_invitations_role_known"),
        ),
        sa.CheckConstraint(
            "NOT (accepted_at IS NOT NULL AND revoked_at IS NOT NULL)",
            name=op.f("ck_organisation_invitations_one_end"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_member_id"],
            ["members.id"],
            name=op.f("fk_organisation_invitations_accepted_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["members.id"],
            name=op.f("fk_organisation_invitations_invited_by_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_invitations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_organisation_invitations_token_hash")),
    )
    op.create_index(
        "ix_organisation_invitations_organisation",
        "organisation_invitations",
        ["organisation_id", "created_at"],
    )


def downgrade():
    op.drop_index("ix_organisation_invitations_organisation", table_name="organisation_invitations")
    op.drop_table("organisation_invitations")
    op.drop_index("uq_organisation_memberships_one_active", table_name="organisation_memberships")
    op.drop_index("ix_organisation_memberships_organisation", table_name="organisation_memberships")
    op.drop_index(
        op.f("ix_organisation_memberships_member_id"), table_name="organisation_memberships"
    )
    op.drop_table("organisation_memberships")
    op.drop_index("ix_organisations_status", table_name="organisations")
    op.drop_table("organisations")
