"""the console's people pages: staff contact history, indexes for the people search

Revision ID: i21_people
Revises: i20_schedule
Create Date: 2026-12-06 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# revision identifiers, used by Alembic.
revision = 'i21_people'
down_revision = 'i20_schedule'
branch_labels = None
depends_on = None


def _prefix_index(name: str, table: str, column: str) -> None:
    # lower(column) with text_pattern_ops: LIKE 'prefix%' uses it under any collation.
    op.create_index(
        name,
        table,
        [sa.text(f'lower({column})')],
        postgresql_ops={f'lower({column})': 'text_pattern_ops'},
    )


def upgrade():
    op.create_table(
        'staff_contacts',
        sa.Column('member_id', BigId, nullable=True),
        sa.Column('customer_id', BigId, nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('author_id', BigId, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "kind IN ('note', 'call', 'conversation', 'email')",
            name=op.f('ck_staff_contacts_kind_known'),
        ),
        sa.CheckConstraint(
            "channel IN ('phone', 'video', 'chat', 'email', 'in_person', 'internal')",
            name=op.f('ck_staff_contacts_channel_known'),
        ),
        sa.CheckConstraint(
            '(member_id IS NULL) <> (customer_id IS NULL)',
            name=op.f('ck_staff_contacts_one_subject'),
        ),
        sa.ForeignKeyConstraint(
            ['author_id'], ['users.id'], name=op.f('fk_staff_contacts_author_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.id'], name=op.f('fk_staff_contacts_customer_id_customers')
        ),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_staff_contacts_member_id_members')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_contacts')),
    )
    op.create_index(
        'ix_staff_contacts_member_happened', 'staff_contacts', ['member_id', 'happened_at', 'id']
    )
    op.create_index(
        'ix_staff_contacts_customer_happened',
        'staff_contacts',
        ['customer_id', 'happened_at', 'id'],
    )
    op.create_index('ix_members_phone', 'members', ['phone'])
    op.create_index('ix_customers_phone', 'customers', ['phone'])
    _prefix_index('ix_members_name_prefix', 'members', 'display_name')
    _prefix_index('ix_customers_name_prefix', 'customers', 'display_name')
    _prefix_index('ix_customers_company_prefix', 'customers', 'company_name')


def downgrade():
    for name, table in (
        ('ix_customers_company_prefix', 'customers'),
        ('ix_customers_name_prefix', 'customers'),
        ('ix_members_name_prefix', 'members'),
        ('ix_customers_phone', 'customers'),
        ('ix_members_phone', 'members'),
    ):
        op.drop_index(name, table_name=table)
    op.drop_index('ix_staff_contacts_customer_happened', table_name='staff_contacts')
    op.drop_index('ix_staff_contacts_member_happened', table_name='staff_contacts')
    op.drop_table('staff_contacts')
