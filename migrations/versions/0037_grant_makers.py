"""What made each grant, with the proofs it had passed then; why a paused one is paused.

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-27

Nullable columns, each added in a statement that only takes the brief ACCESS EXCLUSIVE lock
(no rewrite, no scan), on note_share, webhook, atom_feed, access_token and push_subscription:
- made_by_session, made_by_token: the login session or access token that made the grant (ids,
  not foreign keys: the grant outlives what made it, paused by its end);
- password_proven_at, second_step_proven_at: when that maker had last confirmed the password
  and passed a second step, as it stood at the making (NULL: not within the recent window).
And paused_reason on note_share, webhook and atom_feed: recovery, first_second_step,
token_revoked or password_change. Rows made before are NULL: judged as before this revision
(made_with_second_step, which the previous release still writes and reads).
"""

from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

# Nullable columns the previous release never names.
backward_compatible = True

GRANTS = ("note_share", "webhook", "atom_feed", "access_token", "push_subscription")
PAUSABLE = ("note_share", "webhook", "atom_feed")
MAKER = (
    ("made_by_session", "bigint"),
    ("made_by_token", "bigint"),
    ("password_proven_at", "timestamp with time zone"),
    ("second_step_proven_at", "timestamp with time zone"),
)


def upgrade():
    for table in GRANTS:
        for column, kind in MAKER:
            op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
    for table in PAUSABLE:
        op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS paused_reason text")


def downgrade():
    for table in reversed(PAUSABLE):
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS paused_reason")
    for table in reversed(GRANTS):
        for column, _ in reversed(MAKER):
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")
