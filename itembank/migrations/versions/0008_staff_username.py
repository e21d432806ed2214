"""staff_members.username: the login account a staff member acts as

Until 0007 the link lived only in the ledger (action ``staff.account``, object ``account`` /
username, details ``{"staff_id": ...}``; the newest entry per account wins). This revision
adds the column with a unique index and fills it from those entries; the ledger keeps the
history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 20:05:00
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('staff_members', sa.Column('username', sa.String(length=64), nullable=True))
    op.create_index('uq_staff_members_username', 'staff_members', ['username'], unique=True)

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT object_id, details FROM ledger_entries WHERE object_type = 'account' "
        "AND action = 'staff.account' ORDER BY id")).all()
    linked: dict[str, int] = {}  # replay the entries in order: username -> staff id
    for username, details in rows:
        if isinstance(details, str):
            details = json.loads(details)
        staff_id = (details or {}).get("staff_id")
        linked.pop(username, None)
        if staff_id is not None:
            linked = {u: s for u, s in linked.items() if s != int(staff_id)}
            linked[username] = int(staff_id)
    by_staff = {s: u for u, s in linked.items()}
    for staff_id, username in by_staff.items():
        conn.execute(sa.text("UPDATE staff_members SET username = :u WHERE id = :i"),
                     {"u": username, "i": staff_id})


def downgrade() -> None:
    op.drop_index('uq_staff_members_username', table_name='staff_members')
    op.drop_column('staff_members', 'username')
