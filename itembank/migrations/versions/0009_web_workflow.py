"""Committee votes (accept, or refuse with a reason), the batch's decision rule, committee
refusals in the review record, and imports staged for confirmation

- acceptance_signatures.vote, .return_codes: a member's signed vote (附件11 第17条(三));
  existing rows were signatures, i.e. accept votes.
- acceptance_batches.rule: when a fully voted batch is accepted (default: unanimous).
- reviews.kind, .batch_code: a committee's refusal reaches the writer's review record.
- staged_imports: a file that passed a trial import, waiting for "confirm import".

Revision ID: 0009_web_workflow
Revises: 0009_psy_calibration_method
Create Date: 2026-12-01 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_web_workflow'
down_revision = '0009_psy_calibration_method'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('acceptance_signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote', sa.Enum('accept', 'refuse', name='vote', native_enum=False,
                                                      create_constraint=True),
                                      server_default='accept', nullable=False))
        batch_op.add_column(sa.Column('return_codes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table('acceptance_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule', sa.Enum('unanimous', 'two_thirds', 'majority', name='acceptance_rule',
                                                      native_enum=False, create_constraint=True),
                                      server_default='unanimous', nullable=False))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('review', 'committee', name='review_kind', native_enum=False,
                                                      create_constraint=True),
                                      server_default='review', nullable=False))
        batch_op.add_column(sa.Column('batch_code', sa.String(length=64), server_default='', nullable=False))
    op.create_table('staged_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_staged_imports_bank_id_banks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_imports')),
    sa.UniqueConstraint('token', name=op.f('uq_staged_imports_token'))
    )
    with op.batch_alter_table('staged_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_imports_bank_id'), ['bank_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staged_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_imports_bank_id'))
    op.drop_table('staged_imports')
    # the enums' CHECK constraints go first: SQLite's table copy would keep them otherwise
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reviews_review_kind'), type_='check')
        batch_op.drop_column('batch_code')
        batch_op.drop_column('kind')
    with op.batch_alter_table('acceptance_batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_acceptance_batches_acceptance_rule'), type_='check')
        batch_op.drop_column('rule')
    with op.batch_alter_table('acceptance_signatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_acceptance_signatures_vote'), type_='check')
        batch_op.drop_column('return_codes')
        batch_op.drop_column('vote')
