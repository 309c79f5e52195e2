"""Search reads a bounded prefix of a long note's content: the first SEARCHED_CHARACTERS.

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-23

A note of 20,000 characters made a search vector of about 1.6 bytes per byte of text,
and the database 3.2 times its text (bench/search_abuse.py). From this revision
note.search_vector holds the title and the first SEARCHED_CHARACTERS characters of the
content, cut before a word the limit would split (note_search_prefix()); words further
on are not found, and phrases or highlights past it neither (docs/search.md).

Safe while the previous release serves:
1. note_search_prefix(), and note_search_vector() redefined to use it (no lock on the
   table; the trigger of 0011 calls note_search_vector() by name, so every write from
   either release gets the new vector from here on; the index's expression reads the
   stored vector, never this function, so the index stays valid);
2. the notes written before, whose content is longer than the limit, get their vector
   again, in batches of BATCH_SIZE ids, each its own short transaction (rows edited
   meanwhile already have the new one; a rerun rewrites them to the same value).
Downgrade restores 0011's function and rewrites the long notes' vectors the same way.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

# The previous release never names search_vector, and searches it as before.
backward_compatible = True

# The app's highlights read the same prefix: app/search/query.py names this number too.
SEARCHED_CHARACTERS = 10_000
# Measured on bench/search_abuse.py's words: a vector of 10,000 characters is 0.89 bytes
# per byte of text (1.61 for 20,000; 16,000 would give 1.34 and the database about 2.9x,
# no margin under 3x). A batch holds its rows' locks while it computes their vectors,
# 2-3 ms a long note: 25 ids keep an edit of one from waiting more than about 75 ms.
BATCH_SIZE = 25

# The first SEARCHED_CHARACTERS characters, less the word the cut would split (a
# character past the limit is read to tell whether it does).
PREFIX_FUNCTION = f"""
CREATE OR REPLACE FUNCTION note_search_prefix(content text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN char_length(content) <= {SEARCHED_CHARACTERS} THEN content
              ELSE regexp_replace(left(content, {SEARCHED_CHARACTERS + 1}), '\\S*$', '') END
$$
"""

SEARCH_VECTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION note_search_vector(title text, content text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
      || setweight(
           to_tsvector('english'::regconfig, note_search_prefix(coalesce(content, ''))), 'B'
         )
$$
"""

# 0011's, restored by downgrade.
WHOLE_CONTENT_FUNCTION = """
CREATE OR REPLACE FUNCTION note_search_vector(title text, content text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
      || setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'B')
$$
"""


def refill_long_notes():
    """Compute again the vectors of notes longer than the prefix, one id range at a time."""
    # octet_length() reads a stored value's length without decompressing it, and a note
    # of more characters than the limit has at least as many bytes: the short notes, most
    # of them, are passed over at that cost.
    fill = (
        "UPDATE note SET search_vector = note_search_vector(title, content)"
        f" WHERE octet_length(content) > {SEARCHED_CHARACTERS}"
        f" AND char_length(content) > {SEARCHED_CHARACTERS}"
    )
    if context.is_offline_mode():
        op.execute(fill)
        return
    bind = op.get_bind()
    highest = bind.scalar(sa.text("SELECT coalesce(max(id), 0) FROM note"))
    for low in range(0, highest, BATCH_SIZE):
        bind.execute(
            sa.text(f"{fill} AND id > :low AND id <= :high"),
            {"low": low, "high": low + BATCH_SIZE},
        )


def upgrade():
    op.execute(PREFIX_FUNCTION)
    op.execute(SEARCH_VECTOR_FUNCTION)
    with op.get_context().autocommit_block():
        refill_long_notes()


def downgrade():
    op.execute(WHOLE_CONTENT_FUNCTION)
    with op.get_context().autocommit_block():
        refill_long_notes()
    op.execute("DROP FUNCTION IF EXISTS note_search_prefix(text)")
