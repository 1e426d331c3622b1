"""Clause text as Yjs: the update log, snapshots, and the clause status (open / locked / adopted).

Revision ID: ebfcfe76902b
Revises: 419ab5e9a35e
Create Date: 2026-11-27 10:36:43.970985

"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'ebfcfe76902b'
down_revision = '419ab5e9a35e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clause_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clause_id', sa.Integer(), nullable=False),
    sa.Column('up_to_update_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clause_id'], ['clause.id'], name=op.f('fk_clause_snapshot_clause_id_clause'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clause_snapshot'))
    )
    with op.batch_alter_table('clause_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clause_snapshot_clause_id'), ['clause_id'], unique=False)

    op.create_table('clause_update',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('clause_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['participant.id'], name=op.f('fk_clause_update_author_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['clause_id'], ['clause.id'], name=op.f('fk_clause_update_clause_id_clause'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clause_update'))
    )
    with op.batch_alter_table('clause_update', schema=None) as batch_op:
        batch_op.create_index('ix_clause_update_clause_id_id', ['clause_id', 'id'], unique=False)

    with op.batch_alter_table('clause', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('open', 'locked', 'adopted', name='clause_status', native_enum=False, create_constraint=True, length=32), nullable=False,
                                      server_default='open'))  # existing clauses are open



def downgrade():
    with op.batch_alter_table('clause', schema=None) as batch_op:
        # The enum's CHECK names the column: it must go first (SQLite copies it otherwise).
        batch_op.drop_constraint(op.f('ck_clause_clause_status'), type_='check')
        batch_op.drop_column('status')

    with op.batch_alter_table('clause_update', schema=None) as batch_op:
        batch_op.drop_index('ix_clause_update_clause_id_id')

    op.drop_table('clause_update')
    with op.batch_alter_table('clause_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clause_snapshot_clause_id'))

    op.drop_table('clause_snapshot')
