"""A version number on each recommendation's clause list, so editors can order announcements.

Revision ID: 3ced76d7b7a3
Revises: ebfcfe76902b
Create Date: 2026-11-27 11:07:48.322424

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3ced76d7b7a3'
down_revision = 'ebfcfe76902b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('structure_version', sa.Integer(), nullable=False,
                                      server_default='0'))  # existing lists start at 0



def downgrade():
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.drop_column('structure_version')

