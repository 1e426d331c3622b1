"""Sealed secret tally: a secret vote's running tally is kept encrypted in the vote's row, under
a key derived from the server's secret key, instead of counters on the option rows whose row
versions named each voter's choice. Open secret votes have their counts sealed.

Revision ID: 3c1f0e5a9b27
Revises: 64ba6a8676f4
Create Date: 2026-12-07 20:55:00.000000

"""
import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

from drafting.votes import sealing

# revision identifiers, used by Alembic.
revision = '3c1f0e5a9b27'
down_revision = '64ba6a8676f4'
branch_labels = None
depends_on = None

vote = sa.table('vote', sa.column('id', sa.Integer), sa.column('secret', sa.Boolean),
                sa.column('status', sa.String), sa.column('rule', sa.String),
                sa.column('eligible_count', sa.Integer), sa.column('secret_reasons', sa.Text),
                sa.column('sealed_tally', sa.LargeBinary))
option = sa.table('vote_option', sa.column('id', sa.Integer), sa.column('vote_id', sa.Integer),
                  sa.column('position', sa.Integer), sa.column('secret_count', sa.Integer))


def _secret():
    return str(current_app.config['SECRET_KEY']).encode()


def _open_secret_votes(connection):
    # Enum columns hold their values as text (models.participants.enum_column).
    return connection.execute(sa.select(vote.c.id, vote.c.rule, vote.c.eligible_count, vote.c.secret_reasons,
                                        vote.c.sealed_tally)
                              .where(vote.c.secret.is_(True), vote.c.status == 'open')).all()


def _options(connection, vote_id):
    return connection.execute(sa.select(option.c.id, option.c.secret_count).where(option.c.vote_id == vote_id)
                              .order_by(option.c.position)).all()


def upgrade():
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_tally', sa.LargeBinary(), nullable=True))
    connection = op.get_bind()
    for vote_id, rule, eligible, reasons, _sealed in _open_secret_votes(connection):
        options = _options(connection, vote_id)
        slots = eligible if rule == 'consensus' else 0
        sealed = sealing.seal(_secret(), vote_id, [count for _id, count in options], json.loads(reasons),
                              options=len(options), slots=slots)
        connection.execute(vote.update().where(vote.c.id == vote_id).values(sealed_tally=sealed, secret_reasons='[]'))  # noqa: S106 - not a password
        connection.execute(option.update().where(option.c.vote_id == vote_id).values(secret_count=0))


def downgrade():
    connection = op.get_bind()
    for vote_id, _rule, _eligible, _reasons, sealed in _open_secret_votes(connection):
        if sealed is None:
            continue
        counts, reasons = sealing.unseal(_secret(), vote_id, sealed)
        for (option_id, _count), count in zip(_options(connection, vote_id), counts, strict=True):
            connection.execute(option.update().where(option.c.id == option_id).values(secret_count=count))
        connection.execute(vote.update().where(vote.c.id == vote_id)
                           .values(secret_reasons=json.dumps(sorted(reasons), ensure_ascii=False)))
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_column('sealed_tally')
