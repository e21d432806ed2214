"""Jobs on a real queue (issue 13): procrastinate's tables, the jobs users follow, and the
assembly run's job fields (queue job id, cancel request, live progress, state cancelled).

PostgreSQL gets procrastinate's own schema (its SQL, as the library ships it); SQLite the
tables of ``itembank.jobqueue.SQLiteConnector``, under the same names.

Revision ID: 0009_rt_jobs
Revises: 0009_sec_hardening
Create Date: 2026-12-03 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_rt_jobs'
down_revision = '0009_sec_hardening'
branch_labels = None
depends_on = None

OLD_STATES = ('queued', 'running', 'finished', 'failed')
NEW_STATES = OLD_STATES + ('cancelled',)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        from itembank.jobqueue import postgres_schema_sql

        # the raw psycopg connection: procrastinate's SQL holds '%' and many statements
        conn.connection.driver_connection.execute(postgres_schema_sql())
    else:
        from itembank.jobqueue import SQLITE_SCHEMA

        for statement in SQLITE_SCHEMA:
            conn.exec_driver_sql(statement)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('import_items', 'analysis', 'seal_batch', name='job_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'finished', 'failed', 'cancelled', name='job_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('occupation_code', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('queue_job_id', sa.Integer(), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_kind'), ['kind'], unique=False)

    with op.batch_alter_table('assembly_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_job_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('live', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.alter_column('state', existing_type=sa.Enum(*OLD_STATES, name='run_state', native_enum=False,
                                                             create_constraint=True),
                              type_=sa.Enum(*NEW_STATES, name='run_state', native_enum=False, create_constraint=True),
                              existing_nullable=False)
    with op.batch_alter_table('assembly_runs', schema=None) as batch_op:
        batch_op.alter_column('cancel_requested', server_default=None)
        batch_op.alter_column('live', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('assembly_runs', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.Enum(*NEW_STATES, name='run_state', native_enum=False,
                                                             create_constraint=True),
                              type_=sa.Enum(*OLD_STATES, name='run_state', native_enum=False, create_constraint=True),
                              existing_nullable=False)
        batch_op.drop_column('live')
        batch_op.drop_column('cancel_requested')
        batch_op.drop_column('queue_job_id')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_kind'))
    op.drop_table('jobs')
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
                             "procrastinate_jobs, procrastinate_workers CASCADE")
        # and the queue's functions and enum types in this schema, so that upgrading again works
        conn.exec_driver_sql("""DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = current_schema() AND left(p.proname, 13) = 'procrastinate' LOOP
    EXECUTE 'DROP FUNCTION IF EXISTS ' || r.f || ' CASCADE';
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = current_schema() AND left(t.typname, 13) = 'procrastinate' AND t.typtype IN ('e', 'c', 'd') LOOP
    EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE';
  END LOOP;
END $$""")
    else:
        for table in ('procrastinate_periodic_defers', 'procrastinate_jobs', 'procrastinate_workers'):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
