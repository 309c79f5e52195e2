"""Full-text search of notes: note.search_vector, kept by a trigger, and its GIN index.

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-23

Each lexeme of the vector is stored with its owner's id in front ('42:run'), so the
GIN index holds one posting list per user and word: a search reads the searching
user's entries only, however many notes other users have (see docs/search.md).

Built while the previous release serves, each step holding its lock only briefly:
1. the functions that compute the vector (no lock on the table);
2. the column, nullable with no default (metadata only), and a trigger that fills it
   on every insert and on updates of user_id, title or content, whichever release
   writes the row;
3. the old rows, in batches of BATCH_SIZE ids, each its own short transaction;
4. the GIN index, CONCURRENTLY (an INVALID one left by an interrupted run is rebuilt),
   without GIN's pending list (fastupdate): a new note goes straight into the index,
   so no search ever scans a list of every user's recent notes.
Every step is idempotent, so a rerun after a failure (or a lock-timeout retry)
finishes the job. No extension is needed: plpgsql and the `english` text search
configuration ship with every PostgreSQL.
"""

import sqlalchemy as sa
from alembic import context, op
from safe_ddl import create_index_concurrently

revision = "0011"
down_revision = "0005"
branch_labels = None
depends_on = None

# The previous release never names search_vector; the trigger fills it for its writes too.
backward_compatible = True

# Each batch holds its rows' locks while it computes their vectors (about 50 us a note):
# 1,000 ids keep an edit of one of them from waiting more than a few tens of milliseconds.
BATCH_SIZE = 1_000
INDEX = "ix_note_search_vector"

# The owner's id and a colon before each lexeme, keeping its positions and weights (title A,
# content B). Lexemes over 2,000 bytes are left out: with the prefix they would pass
# tsvector's 2,047-byte limit, and nobody searches for such a word.
SEARCH_VECTOR_FUNCTION = r"""
CREATE OR REPLACE FUNCTION note_search_vector(owner bigint, title text, content text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(
      '''' || replace(replace(owner || ':' || v.lexeme, '\', '\\'), '''', '''''') || ''':'
        || (SELECT string_agg(p || w, ',') FROM unnest(v.positions, v.weights) AS x(p, w)),
      ' '), '')::tsvector
  FROM unnest(
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'B')
  ) AS v
  WHERE octet_length(v.lexeme) <= 2000
$$
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION note_search_vector_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := note_search_vector(NEW.user_id, NEW.title, NEW.content);
  RETURN NEW;
END
$$
"""

TRIGGER = """
CREATE OR REPLACE TRIGGER note_search_vector_fill
BEFORE INSERT OR UPDATE OF user_id, title, content ON note
FOR EACH ROW EXECUTE FUNCTION note_search_vector_fill()
"""


def backfill():
    """Fill search_vector on the rows written before the trigger, one id range per transaction."""
    fill = "UPDATE note SET search_vector = note_search_vector(user_id, title, content)"
    if context.is_offline_mode():
        op.execute(f"{fill} WHERE search_vector IS NULL")
        return
    bind = op.get_bind()
    highest = bind.scalar(sa.text("SELECT coalesce(max(id), 0) FROM note"))
    for low in range(0, highest, BATCH_SIZE):
        bind.execute(
            sa.text(f"{fill} WHERE id > :low AND id <= :high AND search_vector IS NULL"),
            {"low": low, "high": low + BATCH_SIZE},
        )


def upgrade():
    op.execute(SEARCH_VECTOR_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS search_vector tsvector")
    op.execute(TRIGGER)
    with op.get_context().autocommit_block():
        backfill()
        create_index_concurrently(
            INDEX, "note", "search_vector", using="gin", parameters="fastupdate = off"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"')
    op.execute("DROP TRIGGER IF EXISTS note_search_vector_fill ON note")
    op.execute("ALTER TABLE note DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP FUNCTION IF EXISTS note_search_vector_fill()")
    op.execute("DROP FUNCTION IF EXISTS note_search_vector(bigint, text, text)")
