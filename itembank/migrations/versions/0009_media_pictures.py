"""media: pictures of item versions (issue 17), stored once by SHA-256 in the database

Revision ID: 0009_media_pictures
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_media_pictures'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'media_blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('media_type', sa.String(length=32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('n_bytes', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_media_blobs_size_positive')),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_media_blobs')),
    )
    op.create_table(
        'media_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('bank_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('source_name', sa.String(length=255), nullable=False),
        sa.Column('source_type', sa.String(length=8), nullable=False),
        sa.Column('source_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_media_uploads_bank_id_banks')),
        sa.ForeignKeyConstraint(['sha256'], ['media_blobs.sha256'], name=op.f('fk_media_uploads_sha256_media_blobs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_uploads')),
        sa.UniqueConstraint('bank_id', 'sha256', 'uploaded_by', name=op.f('uq_media_uploads_bank_id_sha256_uploaded_by')),
    )
    op.create_index(op.f('ix_media_uploads_bank_id'), 'media_uploads', ['bank_id'], unique=False)
    op.create_index(op.f('ix_media_uploads_sha256'), 'media_uploads', ['sha256'], unique=False)
    op.create_table(
        'item_version_pictures',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['media_blobs.sha256'],
                                name=op.f('fk_item_version_pictures_sha256_media_blobs')),
        sa.ForeignKeyConstraint(['version_id'], ['item_versions.id'],
                                name=op.f('fk_item_version_pictures_version_id_item_versions')),
        sa.PrimaryKeyConstraint('version_id', 'sha256', name=op.f('pk_item_version_pictures')),
    )
    op.create_index(op.f('ix_item_version_pictures_sha256'), 'item_version_pictures', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_item_version_pictures_sha256'), table_name='item_version_pictures')
    op.drop_table('item_version_pictures')
    op.drop_index(op.f('ix_media_uploads_sha256'), table_name='media_uploads')
    op.drop_index(op.f('ix_media_uploads_bank_id'), table_name='media_uploads')
    op.drop_table('media_uploads')
    op.drop_table('media_blobs')
