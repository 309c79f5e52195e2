"""Word count results, as RealPython's flask-by-example stores them.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22

Creates the table while it is empty, so its index is built at once. The foreign key locks
"user" only briefly (SHARE ROW EXCLUSIVE); the lock timeout makes a release phase that queues
behind a long transaction fail fast instead of stalling sign-ups. Ids stay `integer`, like
every other table's and the `<id:...>` URL converter's range. Nothing else here names
another revision: re-chaining it is a change to `down_revision` alone.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '15s'")
    op.create_table(
        "results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("result_all", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result_no_stop_words", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_results_user_id_user"), ondelete="CASCADE"
        ),
        sa.CheckConstraint("char_length(url) <= 2048", name=op.f("ck_results_url_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results")),
    )
    op.create_index("ix_results_user_id_created_at", "results", ["user_id", "created_at"])


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '15s'")
    op.drop_table("results")  # its index goes with it
