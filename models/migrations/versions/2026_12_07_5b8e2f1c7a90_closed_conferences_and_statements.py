"""Finalising closes the conference; adoption closes what hangs on the adopted text; one
statement of a kind per author and decided text.

- conference.finalised_at: when the outcome document was finalised (NULL: still open).
- comment_thread.resolved_by_adoption: resolved because its clause was adopted.
- amendment.status may be "superseded": still open when its clause was adopted.
- statement: unique per (recommendation, clause, author, kind), and per (recommendation,
  author, kind) for the whole (clause NULL).

Revision ID: 5b8e2f1c7a90
Revises: 512964258d3a
Create Date: 2026-12-07 22:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import models

# revision identifiers, used by Alembic.
revision = '5b8e2f1c7a90'
down_revision = '512964258d3a'
branch_labels = None
depends_on = None

BEFORE = ('proposed', 'withdrawn', 'accepted', 'rejected', 'to_be_voted', 'adopted_by_vote',
          'rejected_by_vote')
AFTER = (*BEFORE, 'superseded')


def _statuses(values):
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade():
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finalised_at', models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    # A conference finalised before: closed when its final files were stored.
    op.execute("UPDATE conference SET finalised_at = (SELECT min(created_at) FROM outcome_document "
               "WHERE outcome_document.conference_id = conference.id)")

    with op.batch_alter_table('comment_thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_adoption', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))

    # The enum is a VARCHAR with a CHECK of its values (models.participants.enum_column).
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_amendment_amendment_status'), type_='check')
        batch_op.create_check_constraint('amendment_status', _statuses(AFTER))

    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_statement_recommendation_id_clause_id_author_id_kind'),
            ['recommendation_id', 'clause_id', 'author_id', 'kind'])
        # NULLs are distinct in a unique constraint: the whole's statements need their own.
        batch_op.create_index('uq_statement_whole', ['recommendation_id', 'author_id', 'kind'],
                              unique=True, sqlite_where=sa.text('clause_id IS NULL'),
                              postgresql_where=sa.text('clause_id IS NULL'))


def downgrade():
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_index('uq_statement_whole')
        batch_op.drop_constraint(
            batch_op.f('uq_statement_recommendation_id_clause_id_author_id_kind'), type_='unique')

    # An amendment the adoption closed was, before, left open: it reads as withdrawn.
    op.execute("UPDATE amendment SET status = 'withdrawn' WHERE status = 'superseded'")
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_amendment_amendment_status'), type_='check')
        batch_op.create_check_constraint('amendment_status', _statuses(BEFORE))

    with op.batch_alter_table('comment_thread', schema=None) as batch_op:
        batch_op.drop_column('resolved_by_adoption')

    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_column('finalised_at')
