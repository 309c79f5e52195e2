"""The second step of signing in: an authenticator app per account, recovery codes, and the
throttle of wrong codes (docs/security.md, "Two-step sign-in").

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-25

Three new tables (their locks conflict with nobody), nothing else touched:
- totp_credential: an account's authenticator app, its secret encrypted with TWO_STEP_KEY
  (Fernet), and the last time step a code was accepted for (a code works once);
- recovery_code: the SHA-256 of each of an account's ten single-use recovery codes;
- two_step_throttle: wrong codes per account within a window, shaped like login_throttle
  (a table of its own: no revision has to widen login_throttle's CHECK on its scopes).

The previous release never reads them: while it still serves, an account with the app on
signs in there with its password alone, for as long as the deploy lasts (docs/security.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# New tables: the previous release never reads them.
backward_compatible = True


def upgrade():
    op.create_table(
        "totp_credential",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("last_time_step", sa.BigInteger(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_totp_credential_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_totp_credential"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_recovery_code_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_code"),
        sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_code_user_id"),
    )
    op.create_table(
        "two_step_throttle",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scope IN ('two-step', 'two-step-day')", name="ck_two_step_throttle_scope"
        ),
        sa.PrimaryKeyConstraint("scope", "subject", name="pk_two_step_throttle"),
    )
    op.create_index(
        "ix_two_step_throttle_window_started_at", "two_step_throttle", ["window_started_at"]
    )


def downgrade():
    op.drop_table("two_step_throttle")  # its index and constraints go with it
    op.drop_table("recovery_code")
    op.drop_table("totp_credential")
