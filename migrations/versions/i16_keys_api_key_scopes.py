"""API keys carry scopes; existing keys get every customer scope

Revision ID: i16_keys
Revises: ac9a8244fd0b
Create Date: 2026-12-06 17:38:24.454439

Keys created before scopes existed were used by customers' business systems for jobs and
payments, so they keep exactly that: jobs:read jobs:write payments:read payments:write. They
lose everything else (credentials, the account …), as every API key does.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16_keys'
down_revision = 'ac9a8244fd0b'
branch_labels = None
depends_on = None

DEFAULT_SCOPES = "jobs:read jobs:write payments:read payments:write"
SCOPED = "(kind = 'session' AND scopes IS NULL) OR (kind = 'api_key' AND scopes IS NOT NULL)"


def upgrade():
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=200), nullable=True))
    op.execute(
        sa.text("UPDATE auth_tokens SET scopes = :scopes WHERE kind = 'api_key'").bindparams(
            scopes=DEFAULT_SCOPES
        )
    )
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.create_check_constraint('api_keys_scoped', SCOPED)


def downgrade():
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_constraint('api_keys_scoped', type_='check')
        batch_op.drop_column('scopes')
