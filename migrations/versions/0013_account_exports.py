"""Account exports: one archive per request, written by a worker to the object store.

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-23

Creates the table while it is empty, so its indexes are built at once. The foreign key
locks "user" only briefly (SHARE ROW EXCLUSIVE), under the session's lock_timeout.

An export is `queued`, `running`, then `done` (its archive under `key`, `size` bytes) or
`failed` (`error` says why). A partial unique index keeps one export in flight per user.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "account_export",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_account_export_user_id_user", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_account_export_status"
        ),
        sa.CheckConstraint("char_length(key) <= 200", name="ck_account_export_key_length"),
        sa.CheckConstraint(
            "status <> 'done' OR (key IS NOT NULL AND size IS NOT NULL)",
            name="ck_account_export_done_complete",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_export"),
    )
    op.create_index("ix_account_export_user_id_id", "account_export", ["user_id", "id"])
    # One export in flight per user: a second request finds the first.
    op.create_index(
        "uq_account_export_user_id_unfinished",
        "account_export",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    # The maintenance schedule deletes old archives.
    op.create_index("ix_account_export_finished_at", "account_export", ["finished_at"])


def downgrade():
    op.drop_table("account_export")  # its indexes and constraints go with it
