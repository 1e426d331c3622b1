"""The final outcome document: one stored file per conference and format (HTML, PDF, DOCX,
Markdown, JSON) with its SHA-256, written once when the secretariat finalises.

Revision ID: a5f104934bf6
Revises: 7174c2c38417
Create Date: 2026-11-27 16:51:33.858363

"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'a5f104934bf6'
down_revision = '7174c2c38417'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outcome_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.Enum('html', 'pdf', 'docx', 'md', 'json', name='export_format', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_outcome_document_conference_id_conference'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['participant.id'], name=op.f('fk_outcome_document_created_by_id_participant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_document')),
    sa.UniqueConstraint('conference_id', 'format', name=op.f('uq_outcome_document_conference_id_format'))
    )
    with op.batch_alter_table('outcome_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_document_conference_id'), ['conference_id'], unique=False)



def downgrade():
    with op.batch_alter_table('outcome_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_document_conference_id'))

    op.drop_table('outcome_document')
