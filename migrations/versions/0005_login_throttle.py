"""Login throttle: password checks per email and per client address, over a window.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

A new, empty table, so its index is built at once. Nothing refers to it: the previous
release simply does not throttle.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scope IN ('email', 'client')", name="ck_login_throttle_scope"),
        sa.PrimaryKeyConstraint("scope", "subject", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_window_started_at", "login_throttle", ["window_started_at"])


def downgrade():
    op.drop_table("login_throttle")  # its index goes with it
