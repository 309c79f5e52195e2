"""Full-text search of notes: note.search_vector, kept by a trigger, and a GIN index by owner.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

note.search_vector is the note's text search vector (title weighted A, content B,
the `english` configuration), stored so that ranking and phrase matching read it
instead of parsing the note again. The GIN index is on an expression of it: its
lexemes with the owner's id in front ('42:run'), so the index holds one posting
list per user and word, and a search reads the searching user's entries only,
however many notes other users have (see docs/search.md).

Built while the previous release serves, each step holding its lock only briefly:
1. the functions (no lock on the table);
2. the column, nullable with no default (metadata only), and a trigger that fills it
   on every insert and on updates of title or content, whichever release writes;
3. the old rows, in batches of BATCH_SIZE ids, each its own short transaction;
4. the GIN index, CONCURRENTLY (an INVALID one left by an interrupted run is rebuilt),
   without GIN's pending list (fastupdate): a new note goes straight into the index,
   so no search ever scans a list of every user's recent notes; then ANALYZE.
Every step is idempotent, so a rerun after a failure (or a lock-timeout retry)
finishes the job. No extension is needed: plpgsql and the `english` text search
configuration ship with every PostgreSQL.
"""

import sqlalchemy as sa
from alembic import context, op

from app.release import create_index_concurrently

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The previous release never names search_vector; the trigger fills it for its writes too.
backward_compatible = True

# Each batch holds its rows' locks while it computes and writes their vectors, about
# 0.1-0.4 ms a note on the 2-core development machine (the more so the busier it is):
# 250 ids keep an edit of one of them from waiting more than a few tens of ms, where
# 1,000 made one wait 0.9 s (bench/search.py).
BATCH_SIZE = 250
INDEX = "ix_note_search_keys"

SEARCH_VECTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION note_search_vector(title text, content text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
      || setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'B')
$$
"""

# The owner's id and a colon before each lexeme, without positions (the index needs
# none: phrases and weights are checked on search_vector). A lexeme over 2,000 bytes is
# left out: with the prefix it could pass tsvector's 2,047-byte limit, and nobody
# searches for such a word.
SEARCH_KEYS_FUNCTION = """
CREATE OR REPLACE FUNCTION note_search_keys(owner bigint, vector tsvector)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_to_tsvector(ARRAY(
    SELECT owner || ':' || lexeme FROM unnest(tsvector_to_array(vector)) AS lexeme
    WHERE octet_length(lexeme) <= 2000
  ))
$$
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION note_search_vector_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := note_search_vector(NEW.title, NEW.content);
  RETURN NEW;
END
$$
"""

TRIGGER = """
CREATE OR REPLACE TRIGGER note_search_vector_fill
BEFORE INSERT OR UPDATE OF title, content ON note
FOR EACH ROW EXECUTE FUNCTION note_search_vector_fill()
"""


def backfill():
    """Fill search_vector on the rows written before the trigger, one id range per transaction."""
    fill = "UPDATE note SET search_vector = note_search_vector(title, content)"
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
    op.execute(SEARCH_KEYS_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute("ALTER TABLE note ADD COLUMN IF NOT EXISTS search_vector tsvector")
    op.execute(TRIGGER)
    with op.get_context().autocommit_block():
        backfill()
        create_index_concurrently(
            INDEX,
            "note",
            "note_search_keys(user_id, search_vector)",
            using="gin",
            parameters="fastupdate = off",
        )
        # Statistics of the new column now, not when autovacuum gets to it: the planner
        # weighs the index by them from the new release's first search. (A sample of
        # 30,000 rows; reads and writes go on.)
        op.execute("ANALYZE note")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"')
    op.execute("DROP TRIGGER IF EXISTS note_search_vector_fill ON note")
    op.execute("ALTER TABLE note DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP FUNCTION IF EXISTS note_search_vector_fill()")
    op.execute("DROP FUNCTION IF EXISTS note_search_keys(bigint, tsvector)")
    op.execute("DROP FUNCTION IF EXISTS note_search_vector(text, text)")
