"""Attachments on notes: files kept in the object store, their metadata here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

Creates the table while it is empty, so its indexes are built at once. The two foreign
keys lock "user" and "note" only briefly (SHARE ROW EXCLUSIVE), and the session's
lock_timeout (migrations/env.py) makes a release phase queued behind a long transaction
fail fast and retry instead of stalling writes to notes.

A row is `pending` from the moment Memo signs an upload policy for its key until the
upload is confirmed; only then are its name, type and size known.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "attachment",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="pending", nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_attachment_user_id_user", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["note.id"], name="fk_attachment_note_id_note", ondelete="CASCADE"
        ),
        sa.CheckConstraint("state IN ('pending', 'confirmed')", name="ck_attachment_state"),
        sa.CheckConstraint("char_length(key) <= 200", name="ck_attachment_key_length"),
        sa.CheckConstraint("char_length(name) <= 255", name="ck_attachment_name_length"),
        sa.CheckConstraint(
            "char_length(content_type) <= 255", name="ck_attachment_content_type_length"
        ),
        sa.CheckConstraint("size >= 0", name="ck_attachment_size_not_negative"),
        sa.CheckConstraint(
            "state = 'pending' OR (name IS NOT NULL AND content_type IS NOT NULL"
            " AND size IS NOT NULL AND confirmed_at IS NOT NULL)",
            name="ck_attachment_confirmed_complete",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attachment"),
        sa.UniqueConstraint("key", name="uq_attachment_key"),
    )
    op.create_index("ix_attachment_note_id_created_at", "attachment", ["note_id", "created_at"])
    op.create_index("ix_attachment_user_id_state", "attachment", ["user_id", "state"])
    # The sweep looks for pending uploads whose time ran out.
    op.create_index(
        "ix_attachment_pending_expires_at",
        "attachment",
        ["expires_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade():
    op.drop_table("attachment")  # its indexes and constraints go with it
