"""security hardening: keyed ledger (MAC column, signed checkpoints), known login addresses,
administrator overrides of a sealed paper's opening

Existing ledger entries keep a NULL ``mac``: they were written before the ledger was keyed.
The first checkpoint made afterwards (``itembank ledger checkpoint``, or the server's
checkpointer) signs the head that covers them; ``itembank ledger verify`` says which entries
carry no MAC.

Revision ID: 0009_sec_hardening
Revises: 0009_media_pictures
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_sec_hardening'
down_revision = '0009_media_pictures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
    with op.batch_alter_table('opening_confirmations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_reason', sa.Text(), server_default='', nullable=False))
    op.create_table('login_known_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_known_addresses')),
    sa.UniqueConstraint('username', 'client', name=op.f('uq_login_known_addresses_username_client'))
    )
    op.create_table('ledger_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('n_entries', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('made_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_checkpoints'))
    )


def downgrade() -> None:
    op.drop_table('ledger_checkpoints')
    op.drop_table('login_known_addresses')
    with op.batch_alter_table('opening_confirmations', schema=None) as batch_op:
        batch_op.drop_column('override_reason')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_column('mac')
