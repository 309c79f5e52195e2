"""Trash and history: a deleted note keeps its row for 30 days; a save keeps the text it replaced.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24

1. note.deleted_at (nullable, instant): set when the note goes to the trash, cleared when it
   is restored; the worker deletes notes trashed more than 30 days ago.
2. note.version, bigint NOT NULL DEFAULT 1: adding a column with a constant default is
   metadata only on PostgreSQL 11+ (no rewrite, no scan), so a brief ACCESS EXCLUSIVE lock is
   all it takes. A save names the version its form was based on and is applied only if that
   is still the stored one.
3. note_version, a new table (its lock conflicts with nobody): the text each save replaced.

The previous release never names the new columns (its inserts get the defaults) and never
reads note_version. While both releases serve, it lists trashed notes, and its saves neither
check nor move `version`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

backward_compatible = True


def upgrade():
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS deleted_at timestamptz")
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1")
    op.create_table(
        "note_version",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["note.id"], name="fk_note_version_note_id_note", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_note_version"),
    )
    op.create_index("ix_note_version_note_id_id", "note_version", ["note_id", "id"])
    op.create_index("ix_note_version_created_at", "note_version", ["created_at"])


def downgrade():
    op.drop_table("note_version")  # its indexes and constraint go with it
    op.execute("ALTER TABLE note DROP COLUMN IF EXISTS version")
    op.execute("ALTER TABLE note DROP COLUMN IF EXISTS deleted_at")
