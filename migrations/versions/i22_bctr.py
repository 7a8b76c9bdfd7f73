"""broadcasts in German and English: the text per language beside the default text

Revision ID: i22_bctr
Revises: i22_oinfo
Create Date: 2026-12-07 01:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i22_bctr'
down_revision = 'i22_oinfo'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcasts') as batch:
        batch.add_column(
            sa.Column('translations', sa.JSON(), nullable=False, server_default='{}')
        )


def downgrade():
    with op.batch_alter_table('broadcasts') as batch:
        batch.drop_column('translations')
