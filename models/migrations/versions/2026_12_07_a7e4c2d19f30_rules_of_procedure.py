"""Rules of procedure per conference (not a rule chosen by the chair per vote); consensus
declared by the chair or by a silence procedure, with who was present; motions to
reconsider.

Revision ID: a7e4c2d19f30
Revises: d41e7b2c9a10
Create Date: 2026-12-07 22:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'a7e4c2d19f30'
down_revision = 'd41e7b2c9a10'
branch_labels = None
depends_on = None

RULES = ('consensus', 'simple_majority', 'two_thirds', 'absolute_majority')
SUBJECTS = ('clause', 'wordings', 'amendment', 'recommendation')
OUTCOMES = ('adopted', 'rejected', 'no_quorum', 'runoff')


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_rule', _enum('decision_rule', RULES), nullable=False,
                                      server_default='consensus'))
        batch_op.add_column(sa.Column('fallback_rule', _enum('fallback_rule', RULES), nullable=True,
                                      server_default='two_thirds'))
        batch_op.add_column(sa.Column('quorum_rule', _enum('quorum_rule', ('majority', 'one_third', 'none')),
                                      nullable=False, server_default='majority'))
        batch_op.add_column(sa.Column('chair_votes', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('reconsideration_rule', _enum('reconsideration_rule', RULES),
                                      nullable=False, server_default='two_thirds'))
    # A conference whose every group let its chair vote keeps it so.
    op.execute("UPDATE conference SET chair_votes = TRUE WHERE EXISTS (SELECT 1 FROM working_group g "
               "WHERE g.conference_id = conference.id) AND NOT EXISTS (SELECT 1 FROM working_group g "
               "WHERE g.conference_id = conference.id AND NOT g.chair_votes)")
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_working_group_vote_rule'), type_='check')
        batch_op.drop_column('default_vote_rule')
        batch_op.drop_column('chair_votes')

    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', _enum('vote_method', ('ballot', 'consensus', 'silence')),
                                      nullable=False, server_default='ballot'))
        batch_op.add_column(sa.Column('quorum_needed', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reconsiders_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_vote_reconsiders_id_vote'), 'vote',
                                    ['reconsiders_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(op.f('ck_vote_vote_subject'), type_='check')
        batch_op.create_check_constraint('vote_subject', _in('subject', (*SUBJECTS, 'reconsider')))
        batch_op.drop_constraint(op.f('ck_vote_vote_outcome'), type_='check')
        batch_op.create_check_constraint('vote_outcome', _in('outcome', (*OUTCOMES, 'no_consensus')))
    with op.batch_alter_table('vote_voter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    # Before the rules of procedure a consensus was a ballot under the consensus rule, its
    # objections "no" ballots: declared consensus and silence procedures become that. A
    # motion to reconsider had no equivalent: it goes.
    op.execute("DELETE FROM vote WHERE subject = 'reconsider'")
    op.execute("UPDATE vote SET outcome = 'rejected' WHERE outcome = 'no_consensus'")
    with op.batch_alter_table('vote_voter', schema=None) as batch_op:
        batch_op.drop_column('seen_at')
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_vote_vote_outcome'), type_='check')
        batch_op.create_check_constraint('vote_outcome', _in('outcome', OUTCOMES))
        batch_op.drop_constraint(op.f('ck_vote_vote_subject'), type_='check')
        batch_op.create_check_constraint('vote_subject', _in('subject', SUBJECTS))
        batch_op.drop_constraint(batch_op.f('fk_vote_reconsiders_id_vote'), type_='foreignkey')
        batch_op.drop_column('reconsiders_id')
        batch_op.drop_column('quorum_needed')
        batch_op.drop_constraint(op.f('ck_vote_vote_method'), type_='check')
        batch_op.drop_column('method')

    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chair_votes', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('default_vote_rule', _enum('vote_rule', RULES), nullable=False,
                                      server_default='consensus'))
    op.execute("UPDATE working_group SET chair_votes = (SELECT c.chair_votes FROM conference c "
               "WHERE c.id = working_group.conference_id)")
    with op.batch_alter_table('conference', schema=None) as batch_op:
        for column in ('reconsideration_rule', 'fallback_rule', 'decision_rule', 'quorum_rule'):
            batch_op.drop_constraint(op.f(f'ck_conference_{column}'), type_='check')
        for column in ('reconsideration_rule', 'chair_votes', 'quorum_rule', 'fallback_rule',
                       'decision_rule'):
            batch_op.drop_column(column)
