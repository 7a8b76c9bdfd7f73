"""invoicing: documents addressed to a provider company (or issued in its name)

Revision ID: i26_docsorg
Revises: i26_compay
Create Date: 2026-12-07 18:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i26_docsorg"
down_revision = "i26_compay"
branch_labels = None
depends_on = None

FK = "fk_documents_organisation_id_organisations"
INDEX = "ix_documents_organisation_id"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would rebuild `documents` and lose the triggers that
        # keep issued documents immutable (i24_documents).
        op.execute(
            "ALTER TABLE documents ADD COLUMN organisation_id INTEGER "
            f"CONSTRAINT {FK} REFERENCES organisations (id)"
        )
    else:
        op.add_column("documents", sa.Column("organisation_id", BigId, nullable=True))
        op.create_foreign_key(FK, "documents", "organisations", ["organisation_id"], ["id"])
    op.create_index(INDEX, "documents", ["organisation_id"], unique=False)


def downgrade():
    op.drop_index(INDEX, table_name="documents")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE documents DROP COLUMN organisation_id")
    else:
        op.drop_constraint(FK, "documents", type_="foreignkey")
        op.drop_column("documents", "organisation_id")
