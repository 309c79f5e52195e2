"""Word counts and photos done by the worker: results.status and error, photo_upload.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

results: a word count is now `queued`, then `running`, then `done` (with its counts) or
`failed` (with `error`, the reason shown to the user). Every existing row is a finished
count: `status` is added with the default `done`, which PostgreSQL records in the catalog
without rewriting the table. The counts become nullable (a queued count has none). Its CHECK
is added NOT VALID and validated in its own transaction; the index that makes "one unfinished
count per user and address" a rule is built concurrently.

photo_upload: a new table, one row per uploaded photo waiting for, or done with, processing.

Not backward compatible: the previous release would show a queued count (no counts yet) as
an error page. Rolling back past this revision needs `flask db downgrade`, which deletes the
unfinished counts and the upload records.
"""

import sqlalchemy as sa
from alembic import op
from safe_ddl import constraint_exists, create_index_concurrently

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

backward_compatible = False

squawk_exceptions = {
    "ban-drop-not-null": (
        "a queued count has no counts yet; the revision is marked not backward compatible "
        "because the previous release could not show such a row"
    ),
    "prefer-robust-stmts": (
        "VALIDATE and the concurrent index run outside a transaction; the check is guarded by "
        "constraint_exists() and create_index_concurrently() rebuilds an invalid index"
    ),
}

STATUS_CHECK = "ck_results_status"
UNFINISHED_INDEX = "uq_results_user_id_url_unfinished"


def upgrade():
    op.add_column("results", sa.Column("status", sa.Text(), server_default="done", nullable=False))
    op.add_column("results", sa.Column("error", sa.Text(), nullable=True))
    op.alter_column("results", "result_all", nullable=True)
    op.alter_column("results", "result_no_stop_words", nullable=True)
    op.create_table(
        "photo_upload",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("upload_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_photo_upload_status"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_photo_upload_user_id_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_photo_upload"),
    )
    op.create_index("ix_photo_upload_user_id", "photo_upload", ["user_id"])
    with op.get_context().autocommit_block():
        if not constraint_exists("results", STATUS_CHECK):
            op.execute(
                f"ALTER TABLE results ADD CONSTRAINT {STATUS_CHECK}"
                " CHECK (status IN ('queued', 'running', 'done', 'failed')) NOT VALID"
            )
        op.execute(f"ALTER TABLE results VALIDATE CONSTRAINT {STATUS_CHECK}")
        create_index_concurrently(
            UNFINISHED_INDEX,
            "results",
            "user_id, url",
            unique=True,
            where="status IN ('queued', 'running')",
        )


def downgrade():
    op.drop_table("photo_upload")
    op.execute("DELETE FROM results WHERE status <> 'done'")
    op.drop_index(UNFINISHED_INDEX, table_name="results")
    op.alter_column("results", "result_no_stop_words", nullable=False)
    op.alter_column("results", "result_all", nullable=False)
    op.drop_column("results", "error")
    op.drop_column("results", "status")  # its CHECK goes with it
