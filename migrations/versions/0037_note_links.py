"""Links between notes: note_link, and each note's title as titles are compared.

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-27

1. note_link (from_note_id, position, user_id, target_id, title_key): a note's `[[…]]` links
   as its writer last read them, one row a link; `target_id` for `[[#42]]`, `title_key` (the
   title folded) for `[[Title]]`. A new table conflicts with no lock the running release
   takes; its indexes (by account and title, by target) are built with it, empty.
2. note.title_key text, nullable: the note's title folded (app/wikilinks.py), written by the
   writer; NULL for the notes written before, which the retag job reads once
   (ix_note_unkeyed, built concurrently), writing their links and HTML too. And
   ix_note_user_id_title_key (user_id, title_key, updated_at), built concurrently: a link
   resolves by it.

The previous release never names the new column or table. The downgrade drops them.
"""

from alembic import op

from migrations.ddl import create_index_concurrently

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

# A new table and a nullable column, which the previous release never names.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "prefer-robust-stmts": (
        "the concurrent indexes run outside a transaction; create_index_concurrently() "
        "rebuilds an invalid one and skips a valid one, so a rerun finishes the job"
    ),
}

KEY_INDEX = "ix_note_user_id_title_key"
UNKEYED_INDEX = "ix_note_unkeyed"

TABLE = """CREATE TABLE IF NOT EXISTS note_link (
    from_note_id bigint NOT NULL
        CONSTRAINT fk_note_link_from_note_id_note REFERENCES note (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    user_id bigint NOT NULL
        CONSTRAINT fk_note_link_user_id_user REFERENCES "user" (id) ON DELETE CASCADE,
    target_id bigint,
    title_key text,
    CONSTRAINT pk_note_link PRIMARY KEY (from_note_id, position),
    CONSTRAINT ck_note_link_one_target CHECK ((target_id IS NULL) <> (title_key IS NULL))
)"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_note_link_user_id_title_key ON note_link (user_id, title_key)"
    " WHERE title_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ix_note_link_target_id ON note_link (target_id)"
    " WHERE target_id IS NOT NULL",
)


def upgrade():
    op.execute(TABLE)
    for index in INDEXES:
        op.execute(index)
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS title_key text")
    with op.get_context().autocommit_block():
        create_index_concurrently(KEY_INDEX, "note", '"user_id", "title_key", "updated_at"')
        create_index_concurrently(UNKEYED_INDEX, "note", '"id"', where="title_key IS NULL")


def downgrade():
    with op.get_context().autocommit_block():
        for index in (KEY_INDEX, UNKEYED_INDEX):
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{index}"')
    op.execute("ALTER TABLE note DROP COLUMN IF EXISTS title_key")
    op.execute("DROP TABLE IF EXISTS note_link")
