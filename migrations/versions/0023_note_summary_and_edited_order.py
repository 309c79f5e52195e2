"""A note's summary for the list (preview line, task counts) and the list by last edit.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-25

1. note.preview text, note.tasks_done and note.tasks_total bigint, all nullable: what the
   list shows of a note's Markdown (app/markdown.py), written with its text by every
   save of this release. A nullable column without a default is metadata only: a brief
   ACCESS EXCLUSIVE lock, no rewrite.
2. ix_note_unsummarised (id) WHERE preview IS NULL, built concurrently: the notes written
   before this release, and those the previous release writes during the deploy (it never
   names the columns). The worker's retag job fills them in batches, as it does tags; the
   previous release's edits of older notes move `version` past `tagged_version`, which the
   retag job already finds.
3. ix_note_user_id_pinned_updated_at (user_id, pinned, updated_at, id), built concurrently:
   the list's new order (last edit, pinned first), one index range per page.

The previous release never reads the new columns nor orders by updated_at.
"""

from alembic import op

from migrations.ddl import create_index_concurrently

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

backward_compatible = True

EDITED_INDEX = "ix_note_user_id_pinned_updated_at"
UNSUMMARISED_INDEX = "ix_note_unsummarised"
COLUMNS = ("preview text", "tasks_done bigint", "tasks_total bigint")


def upgrade():
    for column in COLUMNS:
        op.execute(f"ALTER TABLE note ADD COLUMN IF NOT EXISTS {column}")
    with op.get_context().autocommit_block():
        create_index_concurrently(UNSUMMARISED_INDEX, "note", '"id"', where="preview IS NULL")
        create_index_concurrently(EDITED_INDEX, "note", '"user_id", "pinned", "updated_at", "id"')


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{EDITED_INDEX}"')
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{UNSUMMARISED_INDEX}"')
    for column in COLUMNS:
        op.execute(f"ALTER TABLE note DROP COLUMN IF EXISTS {column.split()[0]}")
