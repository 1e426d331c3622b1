"""The final outcome document is stored in Akoma Ntoso 3.0 XML too (format "akn").

Revision ID: c4a7d2e91b35
Revises: 453046406671
Create Date: 2026-12-08 01:20:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4a7d2e91b35'
down_revision = '453046406671'
branch_labels = None
depends_on = None

FORMATS = ('html', 'pdf', 'docx', 'md', 'json')


def _in(values):
    return f"format IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table('outcome_document', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outcome_document_export_format'), type_='check')
        batch_op.create_check_constraint('export_format', _in((*FORMATS, 'akn')))


def downgrade():
    # A final document's Akoma Ntoso file has no place in the older schema: it goes, and the
    # other formats of the final document stay.
    op.execute("DELETE FROM outcome_document WHERE format = 'akn'")
    with op.batch_alter_table('outcome_document', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outcome_document_export_format'), type_='check')
        batch_op.create_check_constraint('export_format', _in(FORMATS))
