"""Revision 0011 gives every note a search vector and a search index by owner, and undoes it."""

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0011")
NOTES = (
    "SELECT id, title, content, created_at, updated_at, user_id, completed FROM note ORDER BY id"
)
# A word of 2,030 letters: its lexeme fits a tsvector, but not with the owner's id in front.
LONG_WORD = "x" * 2030
VALID = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_note_search_keys'::regclass"
# Two users' notes, one of them holding a huge word.
notes_before_0011 = rows_at(
    PARENT,
    user=[user("ann@example.com", "ann"), user("bob@example.com", "bob")],
    note=[
        note("Groceries", "milk and eggs", user_id=1),
        note("회의", "메모를 남겼다", user_id=2),
        {**note("Long", f"a {LONG_WORD} word", user_id=2), "completed": True},
    ],
)


def vectors(database):
    """Return {title: search_vector as text}."""
    rows = database.rows("SELECT title, search_vector::text AS vector FROM note ORDER BY id")
    return {row["title"]: row["vector"] for row in rows}


def index_keys(database):
    """Return {title: the search index's keys of the note, as text}."""
    rows = database.rows(
        "SELECT title, note_search_keys(user_id, search_vector)::text AS keys FROM note ORDER BY id"
    )
    return {row["title"]: row["keys"] for row in rows}


def test_0011_fills_every_notes_vector_and_keys_them_by_owner(
    notes_before_0011, alembic_runner, database
):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
    assert vectors(database) == {
        "Groceries": "'egg':4B 'groceri':1A 'milk':2B",
        "회의": "'남겼다':3B '메모를':2B '회의':1A",
        "Long": f"'long':1A 'word':4B '{LONG_WORD}':3B",
    }
    assert index_keys(database) == {
        "Groceries": "'1:egg' '1:groceri' '1:milk'",
        "회의": "'2:남겼다' '2:메모를' '2:회의'",
        "Long": "'2:long' '2:word'",  # the 2,030-letter word is no key
    }
    index = database.rows(
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


def test_0011_keeps_the_vector_up_to_date_for_the_previous_release_too(
    notes_before_0011, alembic_runner, database
):
    alembic_runner.migrate_up_to(REVISION)
    # What the previous release, still serving, writes: it never names search_vector.
    alembic_runner.insert_into("note", note("From the old release", "running", user_id=1))
    database.execute("UPDATE note SET title = 'Shopping', content = 'bread' WHERE id = 1")
    database.execute("UPDATE note SET completed = true WHERE id = 2")
    now = vectors(database)
    assert now["From the old release"] == "'old':3A 'releas':4A 'run':5B"
    assert now["Shopping"] == "'bread':2B 'shop':1A"
    assert now["회의"] == "'남겼다':3B '메모를':2B '회의':1A"  # ticked off: unchanged
    database.execute("UPDATE note SET user_id = 2 WHERE id = 1")
    assert index_keys(database)["Shopping"] == "'2:bread' '2:shop'"


def test_0011_downgrade_removes_the_vector_its_trigger_and_functions(
    notes_before_0011, alembic_runner, database
):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
        alembic_runner.migrate_down_to(PARENT)
    assert "search_vector" not in database.columns("note")
    leftovers = database.rows(
        "SELECT tgname AS name FROM pg_trigger WHERE tgname LIKE 'note_search%'"
        " UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'note_search%'"
        " UNION ALL SELECT relname FROM pg_class WHERE relname = 'ix_note_search_keys'"
    )
    assert leftovers == []
    assert alembic_runner.current == PARENT
    # ... and the previous release writes notes as before.
    alembic_runner.insert_into("note", note("After the downgrade", "", user_id=1))


def test_0011_finishes_the_job_after_a_run_that_failed_part_way(
    notes_before_0011, alembic_runner, database
):
    # What a first run leaves when it dies during its index build: the column, the
    # trigger and the functions in place, some rows filled, and an INVALID index (marked
    # so in the catalog here, as a concurrent build that was cancelled leaves it).
    alembic_runner.migrate_up_to(REVISION)
    database.execute("UPDATE alembic_version SET version_num = :parent", parent=PARENT)
    database.execute("ALTER TABLE note DISABLE TRIGGER note_search_vector_fill")
    database.execute("UPDATE note SET search_vector = NULL WHERE id > 1")
    database.execute("ALTER TABLE note ENABLE TRIGGER note_search_vector_fill")
    database.execute(
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_note_search_keys'::regclass"
    )
    assert database.rows(VALID) == [{"indisvalid": False}]
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
    assert None not in vectors(database).values()
    assert database.rows(VALID) == [{"indisvalid": True}]
