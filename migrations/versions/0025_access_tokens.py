"""Personal access tokens for the JSON API (/api/v1/, issue 52).

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-25

A new table (its lock conflicts with nobody): one row per token an account made, with its
name, scope (read or write), the SHA-256 of its secret (never the secret), when it expires
(at most 365 days after it was made), its last use and when it was revoked. Deleting an
account deletes its tokens (ON DELETE CASCADE).

The previous release never reads it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "access_token",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_address", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_access_token_user_id_user", ondelete="CASCADE"
        ),
        sa.CheckConstraint("scope IN ('read', 'write')", name="ck_access_token_scope"),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 100", name="ck_access_token_name_length"
        ),
        sa.CheckConstraint(
            "expires_at <= created_at + interval '365 days'",
            name="ck_access_token_expires_within_a_year",
        ),
        sa.CheckConstraint(
            "char_length(last_used_address) <= 64",
            name="ck_access_token_last_used_address_length",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_token"),
        sa.UniqueConstraint("secret_hash", name="uq_access_token_secret_hash"),
    )
    # On an empty new table a plain index takes no lock anyone waits for.
    op.create_index("ix_access_token_user_id_created_at", "access_token", ["user_id", "created_at"])


def downgrade():
    op.drop_table("access_token")  # its index and constraints go with it
