"""The JSON API's Idempotency-Key records (issue 52).

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-25

A new table (its lock conflicts with nobody): one row per `Idempotency-Key` a client sent
with `POST /api/v1/notes`, with the note it made and a digest of the body, so the same key
within 24 hours answers the same note. Unique per (account, key). Deleting the account or the
note deletes the row (ON DELETE CASCADE).

The previous release never reads it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "api_idempotency_key",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_digest", sa.Text(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_api_idempotency_key_user_id_user",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["note.id"],
            name="fk_api_idempotency_key_note_id_note",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "char_length(key) BETWEEN 1 AND 255", name="ck_api_idempotency_key_key_length"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_idempotency_key"),
        sa.UniqueConstraint("user_id", "key", name="uq_api_idempotency_key_user_id"),
    )
    # On an empty new table a plain index takes no lock anyone waits for.
    op.create_index("ix_api_idempotency_key_note_id", "api_idempotency_key", ["note_id"])
    op.create_index("ix_api_idempotency_key_created_at", "api_idempotency_key", ["created_at"])


def downgrade():
    op.drop_table("api_idempotency_key")  # its indexes and constraints go with it
