"""Webhook deliveries reference their event instead of copying the note; their bytes counted.

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-27

Each statement takes only the brief ACCESS EXCLUSIVE lock (no rewrite, no scan):
- webhook_delivery.body becomes nullable: this release builds the body when it sends (the
  note as it is then, or its tombstone) and writes NULL. The previous release still reads it:
  its worker, meeting a NULL body before the new one serves, fails the job before sending
  anything (the delivery stays pending, for the new worker). Rows it wrote keep their body
  until they are pruned (7 days); the column is dropped by a later release's revision, once
  no running code names it.
- webhook_delivery.size: the bytes the delivery would send, counted when it is collected
  (0 for rows written before), against the account's WEBHOOK_PENDING_BYTES.
- webhook.full_at: when collection stopped for the webhook because the account's waiting
  deliveries were full (WEBHOOK_PENDING_ROWS or WEBHOOK_PENDING_BYTES); NULL while it collects.

The downgrade drops the two columns and gives body back its NOT NULL, an empty body in the
rows that have none (the previous release then sends them as empty, signed, and moves on).
"""

from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

# A constraint loosened and columns added that the previous release never names.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "ban-drop-not-null": (
        "the previous release's worker reads body; it meets a NULL only in rows this release "
        "writes, and then fails its job before sending anything (the delivery stays pending "
        "for the new worker): no client writes or needs a body from now on"
    ),
}


def upgrade():
    op.execute("ALTER TABLE webhook_delivery ALTER COLUMN body DROP NOT NULL")
    op.execute(
        "ALTER TABLE webhook_delivery ADD COLUMN IF NOT EXISTS size bigint DEFAULT 0 NOT NULL"
    )
    op.execute("ALTER TABLE webhook ADD COLUMN IF NOT EXISTS full_at timestamp with time zone")


def downgrade():
    op.execute("ALTER TABLE webhook DROP COLUMN IF EXISTS full_at")
    op.execute("ALTER TABLE webhook_delivery DROP COLUMN IF EXISTS size")
    op.execute("UPDATE webhook_delivery SET body = '' WHERE body IS NULL")
    op.execute("ALTER TABLE webhook_delivery ALTER COLUMN body SET NOT NULL")
