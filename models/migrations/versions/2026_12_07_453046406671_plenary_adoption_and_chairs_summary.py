"""The plenary's adoption of the outcome document (the adoption line: when, where, at which
meeting, by consensus or by a vote with its counts), and the Chair's summary of a conference.

Revision ID: 453046406671
Revises: 5b8e2f1c7a90
Create Date: 2026-12-07 22:34:39.345506

"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = '453046406671'
down_revision = '5b8e2f1c7a90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plenary_adoption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('adopted_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('meeting', sa.String(length=300), nullable=False),
    sa.Column('method', sa.Enum('consensus', 'vote', name='adoption_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('votes_yes', sa.Integer(), nullable=True),
    sa.Column('votes_no', sa.Integer(), nullable=True),
    sa.Column('votes_abstain', sa.Integer(), nullable=True),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(method = 'consensus' AND votes_yes IS NULL AND votes_no IS NULL AND votes_abstain IS NULL) OR (method = 'vote' AND votes_yes >= 0 AND votes_no >= 0 AND votes_abstain >= 0)", name=op.f('ck_plenary_adoption_counts')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_plenary_adoption_conference_id_conference'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['participant.id'], name=op.f('fk_plenary_adoption_recorded_by_id_participant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plenary_adoption')),
    sa.UniqueConstraint('conference_id', name=op.f('uq_plenary_adoption_conference_id'))
    )
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chairs_summary', sa.Text(), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_column('chairs_summary')

    op.drop_table('plenary_adoption')
