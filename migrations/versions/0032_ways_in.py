"""What the one rule of docs/mail.md needs to know of an account's ways in: when its proofs
last changed, and which share links a recovery paused.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-25

Three nullable columns, each added in a statement that only takes the brief ACCESS EXCLUSIVE
lock (no rewrite, no scan):
- user.proofs_changed_at: when the account's sign-in last changed (the second step turned on
  or off, a passkey added or removed, a recovery); a bound mailed link sent before it is void.
- note_share.paused_at: when a recovery paused the link, until its owner keeps or revokes it.
- note_share.made_with_second_step: whether the session that made the link had passed a
  second step (NULL for links made before: read as made with the password alone).

The previous release never names them: its links keep working there, paused or not, until
the new release serves (a recovery run there pauses nothing).
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# Nullable columns the previous release never names.
backward_compatible = True


def upgrade():
    op.execute(
        'ALTER TABLE "user" ADD COLUMN IF NOT EXISTS proofs_changed_at timestamp with time zone'
    )
    op.execute("ALTER TABLE note_share ADD COLUMN IF NOT EXISTS paused_at timestamp with time zone")
    op.execute("ALTER TABLE note_share ADD COLUMN IF NOT EXISTS made_with_second_step boolean")


def downgrade():
    op.execute("ALTER TABLE note_share DROP COLUMN IF EXISTS made_with_second_step")
    op.execute("ALTER TABLE note_share DROP COLUMN IF EXISTS paused_at")
    op.execute('ALTER TABLE "user" DROP COLUMN IF EXISTS proofs_changed_at')
