"""Imports of an export or of text files into an account, done by a worker: account_import.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-24

A new table (its lock conflicts with nobody): `queued`, `running`, then `done` (how many notes
and attachments were added) or `failed` (`error` says why). A partial unique index keeps one
import in flight per user.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "account_import",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("notes_added", sa.BigInteger(), nullable=True),
        sa.Column("attachments_added", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_account_import_user_id_user", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_account_import_status"
        ),
        sa.CheckConstraint("char_length(key) <= 200", name="ck_account_import_key_length"),
        sa.CheckConstraint("char_length(name) <= 255", name="ck_account_import_name_length"),
        sa.PrimaryKeyConstraint("id", name="pk_account_import"),
    )
    op.create_index("ix_account_import_user_id_id", "account_import", ["user_id", "id"])
    op.create_index(
        "uq_account_import_user_id_unfinished",
        "account_import",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )


def downgrade():
    op.drop_table("account_import")  # its indexes and constraints go with it
