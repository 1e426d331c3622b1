"""The outcome document's identification (symbol and suffix, original language,
distribution) and the name of the body that adopts its recommendations.

Revision ID: c3d5e7f9a1b2
Revises: c4a7d2e91b35
Create Date: 2026-12-08 01:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d5e7f9a1b2'
down_revision = 'c4a7d2e91b35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_symbol', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('symbol_suffix', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('original_language', sa.String(length=16), server_default='en', nullable=False))
        batch_op.add_column(sa.Column('distribution', sa.Enum('general', 'limited', name='distribution', native_enum=False, create_constraint=True, length=32), server_default='general', nullable=False))
        batch_op.add_column(sa.Column('body_name', sa.String(length=500), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_column('body_name')
        batch_op.drop_constraint(op.f('ck_conference_distribution'), type_='check')
        batch_op.drop_column('distribution')
        batch_op.drop_column('original_language')
        batch_op.drop_column('symbol_suffix')
        batch_op.drop_column('document_symbol')
