"""Editor clients: the Yjs client ids the server gives editors, so that every logged update
is its author's whoever hands it in (and who did, when that was someone else).

Revision ID: 64ba6a8676f4
Revises: a5f104934bf6
Create Date: 2026-12-07 16:25:08.059536

"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = '64ba6a8676f4'
down_revision = 'a5f104934bf6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('editor_client',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_editor_client_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_editor_client_recommendation_id_recommendation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_editor_client'))
    )
    with op.batch_alter_table('clause_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handed_in_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_clause_update_handed_in_by_id_participant'), 'participant', ['handed_in_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('clause_update', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_clause_update_handed_in_by_id_participant'), type_='foreignkey')
        batch_op.drop_column('handed_in_by_id')

    op.drop_table('editor_client')
