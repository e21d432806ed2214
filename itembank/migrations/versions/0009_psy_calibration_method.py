"""calibrations.method and calibrations.status: conditional or marginal ML, and the outcome

``method`` is ``mml`` (marginal ML with EM, every calibration before this revision) or ``cml``
(conditional ML for the Rasch family); ``status`` is ``converged``, ``not_converged`` or
``not_identified``, filled from ``converged`` for the rows already there.

Revision ID: 0009_psy_calibration_method
Revises: 0009_rt_jobs
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_psy_calibration_method'
down_revision = '0009_rt_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('calibrations', sa.Column('method', sa.String(length=8), server_default='mml', nullable=False))
    op.add_column('calibrations', sa.Column('status', sa.String(length=16), nullable=True))
    op.execute("UPDATE calibrations SET status = CASE WHEN converged THEN 'converged' ELSE 'not_converged' END "
               "WHERE converged IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('calibrations') as batch:
        batch.drop_column('status')
        batch.drop_column('method')
