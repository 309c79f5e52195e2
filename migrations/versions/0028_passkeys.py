"""Passkeys: an account's WebAuthn credentials (docs/security.md, "Two-step sign-in").

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-25

One new table (its lock conflicts with nobody), nothing else touched:
- passkey: a credential's id and public key as the authenticator made them, the account's
  user handle, the name its owner gave it, its signature counter, and when the newest
  challenge it answered was made (an answer is accepted once).

The previous release never reads it: while it still serves, an account whose only second
step is a passkey signs in there with its password alone, for as long as the deploy lasts
(docs/security.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "passkey",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("answered_challenge_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_passkey_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_passkey"),
        sa.UniqueConstraint("credential_id", name="uq_passkey_credential_id"),
    )
    op.create_index("ix_passkey_user_id", "passkey", ["user_id"])


def downgrade():
    op.drop_table("passkey")  # its index and constraints go with it
