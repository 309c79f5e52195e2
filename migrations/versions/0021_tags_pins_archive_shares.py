"""Tags, pins, the archive, and share links: note.tags, pinned, archived_at; note_share.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24

1. note.pinned boolean NOT NULL DEFAULT false, note.tags text[] NOT NULL DEFAULT '{}': a
   constant default is metadata only on PostgreSQL 11+ (no rewrite, no scan), so each takes
   only a brief ACCESS EXCLUSIVE lock.
2. note.archived_at (nullable): set while the note is in the archive.
3. note.tagged_version (nullable): the `version` whose text `tags` were read from. This
   release writes both with every text it saves; the previous release moves `version` but
   not the tags, and its new notes have none, so the worker's retag job reads the notes
   where the two differ (a partial index finds them) and sets their tags, existing notes
   included, in batches.
4. ix_note_user_id_pinned_created_at (user_id, pinned, created_at, id), built concurrently:
   the list's order, pinned notes first, one index range per page.
5. note_share, a new table (its lock conflicts with nobody): a link's token's SHA-256, its
   expiry and revocation, and the counter of its rate limit.

The previous release never names the new columns (its inserts get the defaults) and never
reads note_share: while both serve, it lists archived notes, and ignores pins.
"""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import create_index_concurrently

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

backward_compatible = True

LIST_INDEX = "ix_note_user_id_pinned_created_at"
UNTAGGED_INDEX = "ix_note_untagged"


def upgrade():
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS pinned boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS archived_at timestamptz")
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS tags text[] NOT NULL DEFAULT '{}'")
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS tagged_version bigint")
    op.create_table(
        "note_share",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("views_in_window", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["note.id"], name="fk_note_share_note_id_note", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_note_share_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_note_share"),
        sa.UniqueConstraint("token_hash", name="uq_note_share_token_hash"),
    )
    op.create_index("ix_note_share_user_id", "note_share", ["user_id"])
    op.create_index("ix_note_share_note_id", "note_share", ["note_id"])
    with op.get_context().autocommit_block():
        create_index_concurrently(LIST_INDEX, "note", '"user_id", "pinned", "created_at", "id"')
        create_index_concurrently(
            UNTAGGED_INDEX, "note", '"id"', where="tagged_version IS DISTINCT FROM version"
        )


def downgrade():
    op.drop_table("note_share")  # its indexes and constraints go with it
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{UNTAGGED_INDEX}"')
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{LIST_INDEX}"')
    for column in ("tagged_version", "tags", "archived_at", "pinned"):
        op.execute(f"ALTER TABLE note DROP COLUMN IF EXISTS {column}")
