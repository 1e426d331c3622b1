"""Clauses agreed ad referendum: the negotiators agree on the wording subject to confirmation
by their capitals, which the chair records on the clause.

Revision ID: d41e7b2c9a10
Revises: 3c1f0e5a9b27
Create Date: 2026-12-07 20:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd41e7b2c9a10'
down_revision = '3c1f0e5a9b27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clause', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ad_referendum', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('clause', schema=None) as batch_op:
        batch_op.drop_column('ad_referendum')
