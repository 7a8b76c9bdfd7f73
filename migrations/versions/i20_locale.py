"""a user's language: users.locale (de or en; null: not chosen, the default applies)

Revision ID: i20_locale
Revises: i21_console
Create Date: 2026-12-06 23:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i20_locale'
down_revision = 'i21_console'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=2), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_users_locale_known'), "locale IS NULL OR locale IN ('de', 'en')"
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_locale_known'), type_='check')
        batch_op.drop_column('locale')
