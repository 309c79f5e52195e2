"""Mail: verified addresses, the tokens of mailed links, and throttles for asking for mail.

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-23

1. `user.email_verified_at` is added with `DEFAULT now()`: a stable default is evaluated
   once and kept in the catalog (PostgreSQL 11+), so every existing account is verified at
   once, without a rewrite: they signed up before there was a way to verify, and locking
   them out would lose their data. The previous release, still serving, names no such
   column, so the accounts it creates meanwhile are verified too, as under its rules. The
   new release writes NULL for each new sign-up; a later contract release drops the default.
2. `mail_token` holds the SHA-256 of each mailed link's token (never the token), what it is
   for, the address it went to, when it expires and was used, and for a sign-up that met an
   unverified account, the password hash that account takes when the link is opened. A new
   table: its indexes are built at once; its foreign key locks "user" only briefly.
3. The throttle table's CHECK on scope is widened as 0009 did (NOT VALID, validated in its
   own transaction, then the narrow one dropped) for resets per address and per client and
   for the mail one account asks for. Downgrade forgets those rows and narrows it again.
"""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import constraint_exists

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None

# A column the previous release never names, a table it never reads, a wider CHECK.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "prefer-robust-stmts": (
        "VALIDATE runs in its own transaction, after the NOT VALID constraint; each step is "
        "guarded by IF (NOT) EXISTS or constraint_exists(), so a rerun finishes the job"
    ),
    "ban-drop-constraint": (
        "drops the narrow CHECK only once the wider one, which it implies, is validated"
    ),
}

THROTTLE = "login_throttle"
NARROW = "ck_login_throttle_scope_with_signups"
WIDE = "ck_login_throttle_scope_with_mail"
LOGIN_SCOPES = ["email", "client", "signup-client", "signup"]
MAIL_SCOPES = ["reset-email", "reset-client", "mail-account"]


def replace_check(old, new, allowed):
    """Add CHECK `new` (scope IN `allowed`) NOT VALID, validate it, then drop `old`."""
    scopes = ", ".join(f"'{scope}'" for scope in allowed)
    with op.get_context().autocommit_block():
        if not constraint_exists(THROTTLE, new):
            op.execute(
                f"ALTER TABLE {THROTTLE} ADD CONSTRAINT {new} CHECK (scope IN ({scopes})) NOT VALID"
            )
        op.execute(f"ALTER TABLE {THROTTLE} VALIDATE CONSTRAINT {new}")
        op.execute(f"ALTER TABLE {THROTTLE} DROP CONSTRAINT IF EXISTS {old}")


def upgrade():
    op.execute(
        'ALTER TABLE "user" ADD COLUMN IF NOT EXISTS email_verified_at timestamptz DEFAULT now()'
    )
    op.create_table(
        "mail_token",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_stamp", sa.Text(), nullable=True),
        sa.Column("new_password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_mail_token_user_id_user", ondelete="CASCADE"
        ),
        sa.CheckConstraint("purpose IN ('verify', 'reset', 'email')", name="ck_mail_token_purpose"),
        sa.CheckConstraint("char_length(email) <= 254", name="ck_mail_token_email_length"),
        sa.PrimaryKeyConstraint("id", name="pk_mail_token"),
        sa.UniqueConstraint("token_hash", name="uq_mail_token_token_hash"),
        if_not_exists=True,
    )
    op.create_index("ix_mail_token_user_id", "mail_token", ["user_id"], if_not_exists=True)
    # The maintenance job prunes expired links.
    op.create_index("ix_mail_token_expires_at", "mail_token", ["expires_at"], if_not_exists=True)
    replace_check(NARROW, WIDE, LOGIN_SCOPES + MAIL_SCOPES)


def downgrade():
    scopes = ", ".join(f"'{scope}'" for scope in MAIL_SCOPES)
    op.execute(f"DELETE FROM {THROTTLE} WHERE scope IN ({scopes})")
    replace_check(WIDE, NARROW, LOGIN_SCOPES)
    op.drop_table("mail_token")
    op.drop_column("user", "email_verified_at")
