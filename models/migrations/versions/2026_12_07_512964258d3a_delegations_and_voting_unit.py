"""Delegations: a conference's participating States, organisations and other bodies, who sits
in which (one delegation per participant per conference), its head and designated voter; the
conference's voting unit (the person or the delegation) and a vote's, with one eligible unit
and one ballot per delegation; where a roll call starts (drawn by lot); the delegation a
statement is made for; a participant's family name for alphabetical lists.

Revision ID: 512964258d3a
Revises: a7e4c2d19f30
Create Date: 2026-12-07 22:06:58.599738

"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = '512964258d3a'
down_revision = 'a7e4c2d19f30'
branch_labels = None
depends_on = None


def _voting_unit():
    return sa.Enum('person', 'delegation', name='voting_unit', native_enum=False,
                   create_constraint=True, length=32)


def upgrade():
    op.create_table('delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('state', 'organisation', 'other', name='delegation_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sort_key', sa.String(length=200), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('voter_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_delegation_conference_id_conference'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['head_id'], ['participant.id'], name=op.f('fk_delegation_head_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['voter_id'], ['participant.id'], name=op.f('fk_delegation_voter_id_participant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation')),
    sa.UniqueConstraint('conference_id', 'name', name=op.f('uq_delegation_conference_id_name')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_delegation_id_conference_id'))
    )
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_conference_id'), ['conference_id'], unique=False)

    op.create_table('delegation_seat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('delegation_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delegation_id', 'conference_id'], ['delegation.id', 'delegation.conference_id'], name=op.f('fk_delegation_seat_delegation_id_delegation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_delegation_seat_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation_seat')),
    sa.UniqueConstraint('conference_id', 'participant_id', name=op.f('uq_delegation_seat_conference_id_participant_id'))
    )
    with op.batch_alter_table('delegation_seat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_seat_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegation_seat_participant_id'), ['participant_id'], unique=False)

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_ballot_vote_id_delegation_id'), ['vote_id', 'delegation_id'])
        batch_op.create_foreign_key(batch_op.f('fk_ballot_delegation_id_delegation'), 'delegation', ['delegation_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('conference', schema=None) as batch_op:
        # Every conference so far: each participant votes.
        batch_op.add_column(sa.Column('voting_unit', _voting_unit(), server_default='person', nullable=False))

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_name', sa.String(length=200), server_default='', nullable=False))

    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_statement_delegation_id_delegation'), 'delegation', ['delegation_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voting_unit', _voting_unit(), server_default='person', nullable=False))
        batch_op.add_column(sa.Column('drawn_delegation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('drawn_participant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_vote_drawn_delegation_id_delegation'), 'delegation', ['drawn_delegation_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_vote_drawn_participant_id_participant'), 'participant', ['drawn_participant_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('vote_voter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation_id', sa.Integer(), nullable=True))
        batch_op.alter_column('participant_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_vote_voter_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_vote_voter_vote_id_delegation_id'), ['vote_id', 'delegation_id'])
        batch_op.create_foreign_key(batch_op.f('fk_vote_voter_delegation_id_delegation'), 'delegation', ['delegation_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint('one_unit', '(participant_id IS NULL) <> (delegation_id IS NULL)')


vote_voter = sa.table('vote_voter', sa.column('id', sa.Integer), sa.column('vote_id', sa.Integer),
                      sa.column('participant_id', sa.Integer), sa.column('delegation_id', sa.Integer))
ballot = sa.table('ballot', sa.column('vote_id', sa.Integer), sa.column('voter_id', sa.Integer),
                  sa.column('delegation_id', sa.Integer))


def _delegations_become_their_voters(connection):
    """Without delegations, a delegation's eligibility in a vote becomes that of whoever cast
    its ballot (a ballot keeps its voter), and goes where nobody did: every ballot still has
    its voter among the eligible, and the vote's eligible count stays as it was opened."""
    cast = (sa.select(ballot.c.voter_id)
            .where(ballot.c.vote_id == vote_voter.c.vote_id,
                   ballot.c.delegation_id == vote_voter.c.delegation_id)
            .scalar_subquery())
    connection.execute(vote_voter.update().where(vote_voter.c.delegation_id.is_not(None))
                       .values(participant_id=cast))
    connection.execute(vote_voter.delete().where(vote_voter.c.participant_id.is_(None)))


def downgrade():
    with op.batch_alter_table('vote_voter', schema=None) as batch_op:
        # A row briefly names both a delegation and the person who cast its ballot.
        batch_op.drop_constraint(op.f('ck_vote_voter_one_unit'), type_='check')
    _delegations_become_their_voters(op.get_bind())
    with op.batch_alter_table('vote_voter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_vote_voter_delegation_id_delegation'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_vote_voter_vote_id_delegation_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_vote_voter_delegation_id'))
        batch_op.alter_column('participant_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('delegation_id')

    with op.batch_alter_table('vote', schema=None) as batch_op:
        # The enum's CHECK names the column: it must go first (SQLite copies it otherwise).
        batch_op.drop_constraint(op.f('ck_vote_voting_unit'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_vote_drawn_participant_id_participant'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_vote_drawn_delegation_id_delegation'), type_='foreignkey')
        batch_op.drop_column('drawn_participant_id')
        batch_op.drop_column('drawn_delegation_id')
        batch_op.drop_column('voting_unit')

    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_statement_delegation_id_delegation'), type_='foreignkey')
        batch_op.drop_column('delegation_id')

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('family_name')

    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conference_voting_unit'), type_='check')
        batch_op.drop_column('voting_unit')

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ballot_delegation_id_delegation'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_ballot_vote_id_delegation_id'), type_='unique')
        batch_op.drop_column('delegation_id')

    with op.batch_alter_table('delegation_seat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_seat_participant_id'))
        batch_op.drop_index(batch_op.f('ix_delegation_seat_delegation_id'))

    op.drop_table('delegation_seat')
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_conference_id'))

    op.drop_table('delegation')
