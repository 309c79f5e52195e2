"""Migration 0011 gives every note a search vector and a search index by owner, and undoes it."""

import pytest
from alembic.script import ScriptDirectory

REVISION = "0011"
INSERT_USER = (
    'INSERT INTO "user" (email, nickname, password_hash, created_at)'
    " VALUES (:email, :nickname, 'argon-hash', now())"
)
INSERT_NOTE = (
    "INSERT INTO note (title, content, created_at, updated_at, user_id)"
    " VALUES (:title, :content, now(), now(), :user_id)"
)
NOTE_COLUMNS = "id, title, content, created_at, updated_at, user_id, completed"
# A word of 2,030 letters: its lexeme fits a tsvector, but not with the owner's id in front.
LONG_WORD = "x" * 2030


def parent(schema):
    """Return the revision 0011 builds on, as its file says."""
    with schema.app.app_context():
        config = schema.app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(REVISION).down_revision


@pytest.fixture
def notes_before_0011(scratch_schema):
    """A database just before 0011 with two users' notes, one of them holding a huge word."""
    scratch_schema.upgrade(parent(scratch_schema))
    scratch_schema.execute(INSERT_USER, email="ann@example.com", nickname="ann")
    scratch_schema.execute(INSERT_USER, email="bob@example.com", nickname="bob")
    scratch_schema.execute(INSERT_NOTE, title="Groceries", content="milk and eggs", user_id=1)
    scratch_schema.execute(INSERT_NOTE, title="회의", content="메모를 남겼다", user_id=2)
    scratch_schema.execute(INSERT_NOTE, title="Long", content=f"a {LONG_WORD} word", user_id=2)
    scratch_schema.execute("UPDATE note SET completed = true WHERE title = 'Long'")
    return scratch_schema


def vectors(schema):
    """Return {title: search_vector as text}."""
    rows = schema.rows("SELECT title, search_vector::text AS vector FROM note ORDER BY id")
    return {row["title"]: row["vector"] for row in rows}


def index_keys(schema):
    """Return {title: the search index's keys of the note, as text}."""
    rows = schema.rows(
        "SELECT title, note_search_keys(user_id, search_vector)::text AS keys FROM note ORDER BY id"
    )
    return {row["title"]: row["keys"] for row in rows}


def notes(schema):
    return schema.rows(f"SELECT {NOTE_COLUMNS} FROM note ORDER BY id")


def test_0011_fills_every_notes_vector_and_keys_them_by_owner(notes_before_0011):
    schema = notes_before_0011
    before = notes(schema)
    schema.upgrade(REVISION)
    assert notes(schema) == before
    assert vectors(schema) == {
        "Groceries": "'egg':4B 'groceri':1A 'milk':2B",
        "회의": "'남겼다':3B '메모를':2B '회의':1A",
        "Long": f"'long':1A 'word':4B '{LONG_WORD}':3B",
    }
    assert index_keys(schema) == {
        "Groceries": "'1:egg' '1:groceri' '1:milk'",
        "회의": "'2:남겼다' '2:메모를' '2:회의'",
        "Long": "'2:long' '2:word'",  # the 2,030-letter word is no key
    }
    index = schema.rows(
        "SELECT i.indisvalid, am.amname, c.reloptions, pg_get_indexdef(c.oid) AS definition"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'ix_note_search_keys'"
    )
    assert index == [
        {
            "indisvalid": True,
            "amname": "gin",
            "reloptions": ["fastupdate=off"],
            "definition": "CREATE INDEX ix_note_search_keys ON public.note USING gin"
            " (note_search_keys(user_id, search_vector)) WITH (fastupdate=off)",
        }
    ]


def test_0011_keeps_the_vector_up_to_date_for_the_previous_release_too(notes_before_0011):
    schema = notes_before_0011
    schema.upgrade(REVISION)
    # What the previous release, still serving, writes: it never names search_vector.
    schema.execute(INSERT_NOTE, title="From the old release", content="running", user_id=1)
    schema.execute("UPDATE note SET title = 'Shopping', content = 'bread' WHERE id = 1")
    schema.execute("UPDATE note SET completed = true WHERE id = 2")
    now = vectors(schema)
    assert now["From the old release"] == "'old':3A 'releas':4A 'run':5B"
    assert now["Shopping"] == "'bread':2B 'shop':1A"
    assert now["회의"] == "'남겼다':3B '메모를':2B '회의':1A"  # ticked off: unchanged
    schema.execute("UPDATE note SET user_id = 2 WHERE id = 1")
    assert index_keys(schema)["Shopping"] == "'2:bread' '2:shop'"


def test_0011_downgrade_removes_the_vector_its_trigger_and_functions(notes_before_0011):
    schema = notes_before_0011
    before = notes(schema)
    schema.upgrade(REVISION)
    schema.downgrade(parent(schema))
    assert "search_vector" not in schema.columns("note")
    assert notes(schema) == before
    leftovers = schema.rows(
        "SELECT tgname AS name FROM pg_trigger WHERE tgname LIKE 'note_search%'"
        " UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'note_search%'"
        " UNION ALL SELECT relname FROM pg_class WHERE relname = 'ix_note_search_keys'"
    )
    assert leftovers == []
    assert schema.current() == parent(schema)
    # ... and the previous release writes notes as before.
    schema.execute(INSERT_NOTE, title="After the downgrade", content="", user_id=1)


def test_0011_finishes_the_job_after_a_run_that_failed_part_way(notes_before_0011):
    schema = notes_before_0011
    # What a first run leaves when it dies during its index build: the column, the
    # trigger and the functions in place, some rows filled, and an INVALID index (marked
    # so in the catalog here, as a concurrent build that was cancelled leaves it).
    schema.upgrade(REVISION)
    schema.execute("UPDATE alembic_version SET version_num = :parent", parent=parent(schema))
    schema.execute("DELETE FROM schema_revisions WHERE revision = :revision", revision=REVISION)
    schema.execute("ALTER TABLE note DISABLE TRIGGER note_search_vector_fill")
    schema.execute("UPDATE note SET search_vector = NULL WHERE id > 1")
    schema.execute("ALTER TABLE note ENABLE TRIGGER note_search_vector_fill")
    schema.execute(
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_note_search_keys'::regclass"
    )
    schema.upgrade(REVISION)
    assert schema.current() == REVISION
    assert None not in vectors(schema).values()
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_note_search_keys'::regclass"
    assert schema.rows(valid) == [{"indisvalid": True}]
