"""A note's first open task items, for the list to tick; a mark of which text this
release's rules read (tags, summary); and what a history entry is.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-25

1. note.open_tasks jsonb and note.read_version bigint, both nullable: the first open task
   items of the note's text as [number, text] pairs (app/markdown.py, summary()), and the
   version of the text that they and the tags were read from by this release's rules.
   Every save of this release writes both with the text. A nullable column without a
   default is metadata only: a brief ACCESS EXCLUSIVE lock, no rewrite.
2. ix_note_unread (id) WHERE read_version IS DISTINCT FROM version, built concurrently:
   every note written before this release, and those the previous release saves during
   the deploy (it never names the columns). The worker's retag job reads them again in
   batches: their open tasks, and their tags by this release's rule (Korean particles,
   docs/notes.md). Until then the list shows no task of theirs to tick.

3. note_version.kind text and note_version.dropped bigint, both nullable: NULL is a save's
   entry (the text a save replaced), 'set_aside' the text a conflict's "keep the saved one"
   set aside; `dropped` counts the saves within the quiet time after the entry whose texts
   were not kept. The previous release's entries are saves with none counted.

The previous release never reads the new columns.
"""

from alembic import op

from migrations.ddl import create_index_concurrently

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

backward_compatible = True

UNREAD_INDEX = "ix_note_unread"
COLUMNS = ("open_tasks jsonb", "read_version bigint")
VERSION_COLUMNS = ("kind text", "dropped bigint")


def upgrade():
    for column in COLUMNS:
        op.execute(f"ALTER TABLE note ADD COLUMN IF NOT EXISTS {column}")
    for column in VERSION_COLUMNS:
        op.execute(f"ALTER TABLE note_version ADD COLUMN IF NOT EXISTS {column}")
    with op.get_context().autocommit_block():
        create_index_concurrently(
            UNREAD_INDEX, "note", '"id"', where="read_version IS DISTINCT FROM version"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{UNREAD_INDEX}"')
    for column in COLUMNS:
        op.execute(f"ALTER TABLE note DROP COLUMN IF EXISTS {column.split()[0]}")
    for column in VERSION_COLUMNS:
        op.execute(f"ALTER TABLE note_version DROP COLUMN IF EXISTS {column.split()[0]}")
