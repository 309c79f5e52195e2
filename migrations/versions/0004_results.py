"""Word count results, as RealPython's flask-by-example stores them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Creates the table while it is empty, so its index is built at once. The foreign key
locks "user" only briefly (SHARE ROW EXCLUSIVE), and the session's lock_timeout
(migrations/env.py) makes a release phase queued behind a long transaction fail fast
and retry instead of stalling sign-ups.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "results",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("result_all", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result_no_stop_words", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_results_user_id_user", ondelete="CASCADE"
        ),
        sa.CheckConstraint("char_length(url) <= 2048", name="ck_results_url_length"),
        sa.PrimaryKeyConstraint("id", name="pk_results"),
    )
    op.create_index("ix_results_user_id_created_at", "results", ["user_id", "created_at"])


def downgrade():
    op.drop_table("results")  # its index goes with it
