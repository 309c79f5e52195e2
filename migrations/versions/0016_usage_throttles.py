"""Note writes, and sign-ins in total, counted in the login throttle table (new scopes).

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-23

As 0009 did for signups: the table's CHECK on scope is widened without a scan under a
strong lock. The new constraint is added NOT VALID (a brief lock), validated in its own
transaction (reads and writes go on), and only then is the narrower one dropped. Every
step is guarded, so a rerun finishes the job. Downgrade forgets the new scopes' rows and
narrows the check again.
"""

from alembic import op

from app.release import constraint_exists

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None

# The previous release writes only the scopes both constraints allow.
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

TABLE = "login_throttle"
NARROW = "ck_login_throttle_scope_with_mail"  # 0014's
WIDE = "ck_login_throttle_scope_with_usage"
OLD_SCOPES = [
    "email",
    "client",
    "signup-client",
    "signup",
    "reset-email",
    "reset-client",
    "mail-account",
]
NEW_SCOPES = ["note-writes", "login"]


def replace_check(old, new, allowed):
    """Add CHECK `new` (scope IN `allowed`) NOT VALID, validate it, then drop `old`."""
    scopes = ", ".join(f"'{scope}'" for scope in allowed)
    with op.get_context().autocommit_block():
        if not constraint_exists(TABLE, new):
            op.execute(
                f"ALTER TABLE {TABLE} ADD CONSTRAINT {new} CHECK (scope IN ({scopes})) NOT VALID"
            )
        op.execute(f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT {new}")
        op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {old}")


def upgrade():
    replace_check(NARROW, WIDE, OLD_SCOPES + NEW_SCOPES)


def downgrade():
    op.execute(f"DELETE FROM {TABLE} WHERE scope IN ('note-writes', 'login')")
    replace_check(WIDE, NARROW, OLD_SCOPES)
