"""Web Push for reminders: the browsers an account subscribed, and each occurrence's push.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-26

- push_subscription, a new table (its lock conflicts with nobody; its foreign keys take a
  brief SHARE ROW EXCLUSIVE on "user" and login_session): a browser's endpoint and keys.
- reminder_occurrence gets three columns, each added without a rewrite or a scan:
  push_outcome (NULL: nothing to push), pushed_at and pushed_to (bigint[], default '{}', a
  constant: metadata only). The CHECK on push_outcome is added NOT VALID, then validated in
  a transaction of its own (reads and writes go on), guarded so that a rerun finishes it.

The previous release never names them: it writes occurrences with no push (the defaults),
and its worker mails them as before.
"""

import sqlalchemy as sa
from alembic import op

from app.release import constraint_exists

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# A new table and columns with defaults the previous release never names.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "prefer-robust-stmts": (
        "VALIDATE runs in its own transaction, after the NOT VALID constraint; each step is "
        "guarded by constraint_exists() or IF [NOT] EXISTS, so a rerun finishes the job"
    ),
}

OUTCOME_CHECK = "ck_reminder_occurrence_push_outcome_known"


def upgrade():
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("login_session_id", sa.BigInteger(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh_public_key", sa.Text(), nullable=False),
        sa.Column("auth_secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "char_length(endpoint) <= 1024 AND endpoint LIKE 'https://%'",
            name="ck_push_subscription_endpoint_https",
        ),
        sa.CheckConstraint(
            "char_length(p256dh_public_key) = 87", name="ck_push_subscription_p256dh_length"
        ),
        sa.CheckConstraint(
            "char_length(auth_secret) = 22", name="ck_push_subscription_auth_length"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_push_subscription_user_id_user", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["login_session_id"],
            ["login_session.id"],
            name="fk_push_subscription_login_session_id_login_session",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_push_subscription"),
        sa.UniqueConstraint("user_id", "endpoint", name="uq_push_subscription_user_id"),
    )
    op.create_index(
        "ix_push_subscription_login_session_id", "push_subscription", ["login_session_id"]
    )
    op.execute("ALTER TABLE reminder_occurrence ADD COLUMN IF NOT EXISTS push_outcome text")
    op.execute(
        "ALTER TABLE reminder_occurrence ADD COLUMN IF NOT EXISTS pushed_at "
        "timestamp with time zone"
    )
    op.execute(
        "ALTER TABLE reminder_occurrence ADD COLUMN IF NOT EXISTS pushed_to bigint[] "
        "DEFAULT '{}' NOT NULL"
    )
    with op.get_context().autocommit_block():
        if not constraint_exists("reminder_occurrence", OUTCOME_CHECK):
            op.execute(
                f"ALTER TABLE reminder_occurrence ADD CONSTRAINT {OUTCOME_CHECK} "
                "CHECK (push_outcome IN ('queued', 'sent', 'held', 'void')) NOT VALID"
            )
        op.execute(f"ALTER TABLE reminder_occurrence VALIDATE CONSTRAINT {OUTCOME_CHECK}")


def downgrade():
    op.execute(f"ALTER TABLE reminder_occurrence DROP CONSTRAINT IF EXISTS {OUTCOME_CHECK}")
    op.execute("ALTER TABLE reminder_occurrence DROP COLUMN IF EXISTS pushed_to")
    op.execute("ALTER TABLE reminder_occurrence DROP COLUMN IF EXISTS pushed_at")
    op.execute("ALTER TABLE reminder_occurrence DROP COLUMN IF EXISTS push_outcome")
    op.drop_table("push_subscription")
