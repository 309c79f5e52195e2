"""Signups throttled in the login throttle's table: scopes `signup-client` and `signup`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

The table's CHECK on scope is widened without a scan under a strong lock: the new
constraint is added NOT VALID (a brief lock), validated in its own transaction (reads and
writes go on), and only then is the narrow one dropped. Every step is guarded, so a rerun
finishes the job. Downgrade forgets the signup rows and narrows the check again.
"""

from alembic import op

from app.release import constraint_exists

revision = "0009"
down_revision = "0008"
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
        "drops the narrow CHECK only once the wider one, which it implies, is validated"
    ),
}

TABLE = "login_throttle"
# 0005 named it through the naming convention, which added the prefix a second time.
NARROW = "ck_login_throttle_ck_login_throttle_scope"
WIDE = "ck_login_throttle_scope_with_signups"


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
    replace_check(NARROW, WIDE, ["email", "client", "signup-client", "signup"])


def downgrade():
    op.execute(f"DELETE FROM {TABLE} WHERE scope IN ('signup-client', 'signup')")
    replace_check(WIDE, NARROW, ["email", "client"])
