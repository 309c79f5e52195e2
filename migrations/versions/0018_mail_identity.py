"""Mailed links that secure an account or remove an unconfirmed one; mail counted per recipient.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23

Two CHECKs are widened, each as 0016 did: the new constraint is added NOT VALID (a brief
lock), validated in its own transaction (reads and writes go on), and only then is the
narrower one dropped. Every step is guarded, so a rerun finishes the job.
1. `mail_token.purpose` may also be `secure` (the "this was not me" link of a notice) and
   `remove` (the link that removes an unconfirmed account made with someone's address).
2. `login_throttle.scope` may also be `mail-recipient`: mail sent to one address, whoever
   asked for it.
Downgrade forgets the new rows and narrows both checks again.
"""

from alembic import op

from migrations.ddl import constraint_exists

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The previous release writes only values both constraints allow.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "prefer-robust-stmts": (
        "VALIDATE runs in its own transaction, after the NOT VALID constraint; each step is "
        "guarded by constraint_exists() or IF EXISTS, so a rerun finishes the job"
    ),
    "ban-drop-constraint": (
        "drops the narrower CHECK only once the wider one, which it implies, is validated"
    ),
}

OLD_PURPOSES = ["verify", "reset", "email"]
NEW_PURPOSES = ["secure", "remove"]
OLD_SCOPES = [
    "email",
    "client",
    "signup-client",
    "signup",
    "reset-email",
    "reset-client",
    "mail-account",
    "note-writes",
    "login",
]
NEW_SCOPES = ["mail-recipient"]
# (table, column, the narrower constraint, the wider one)
PURPOSE = (
    "mail_token",
    "purpose",
    "ck_mail_token_ck_mail_token_purpose",  # 0014 named it twice over (its naming convention)
    "ck_mail_token_purpose_with_notices",
)
SCOPE = (
    "login_throttle",
    "scope",
    "ck_login_throttle_scope_with_usage",
    "ck_login_throttle_scope_with_recipients",
)


def replace_check(table, column, old, new, allowed):
    """Add CHECK `new` (`column` IN `allowed`) NOT VALID, validate it, then drop `old`."""
    values = ", ".join(f"'{value}'" for value in allowed)
    with op.get_context().autocommit_block():
        if not constraint_exists(table, new):
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {new} CHECK ({column} IN ({values})) NOT VALID"
            )
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {new}")
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {old}")


def upgrade():
    table, column, narrow, wide = PURPOSE
    replace_check(table, column, narrow, wide, OLD_PURPOSES + NEW_PURPOSES)
    table, column, narrow, wide = SCOPE
    replace_check(table, column, narrow, wide, OLD_SCOPES + NEW_SCOPES)


def downgrade():
    op.execute("DELETE FROM mail_token WHERE purpose IN ('secure', 'remove')")
    op.execute("DELETE FROM login_throttle WHERE scope = 'mail-recipient'")
    table, column, narrow, wide = PURPOSE
    replace_check(table, column, wide, narrow, OLD_PURPOSES)
    table, column, narrow, wide = SCOPE
    replace_check(table, column, wide, narrow, OLD_SCOPES)
