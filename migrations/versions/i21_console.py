"""the community managers' console: server-side sessions, staff TOTP and recovery codes

Revision ID: i21_console
Revises: i20_digest
Create Date: 2026-12-06 23:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# revision identifiers, used by Alembic.
revision = 'i21_console'
down_revision = 'i20_digest'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'console_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_console_sessions_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
        sa.UniqueConstraint('id_hash', name=op.f('uq_console_sessions_id_hash')),
    )
    op.create_index(
        'ix_console_sessions_user_revoked', 'console_sessions', ['user_id', 'revoked_at']
    )
    op.create_table(
        'staff_two_factor',
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('secret_encrypted', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_staff_two_factor_user_id_users')
        ),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_two_factor')),
    )
    op.create_table(
        'staff_recovery_codes',
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_staff_recovery_codes_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_recovery_codes')),
        sa.UniqueConstraint(
            'user_id', 'code_hash', name=op.f('uq_staff_recovery_codes_user_id_code_hash')
        ),
    )
    op.create_index(
        op.f('ix_staff_recovery_codes_user_id'), 'staff_recovery_codes', ['user_id']
    )


def downgrade():
    op.drop_index(op.f('ix_staff_recovery_codes_user_id'), table_name='staff_recovery_codes')
    op.drop_table('staff_recovery_codes')
    op.drop_table('staff_two_factor')
    op.drop_index('ix_console_sessions_user_revoked', table_name='console_sessions')
    op.drop_table('console_sessions')
