"""Revision 0017 keeps the search vector to a long note's first characters, and undoes it."""

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0017")
SEARCHED = 10_000  # the revision's limit, in characters
NOTES = (
    "SELECT id, title, content, created_at, updated_at, user_id, completed FROM note ORDER BY id"
)


def long_content(far_word, cut_word="zanzibarian"):
    """Return 15,000 characters: `cut_word` across the limit, `far_word` after it."""
    head = "giraffe " * ((SEARCHED - 5) // 8)
    head += " " * (SEARCHED - 5 - len(head))
    return f"{head}{cut_word} " + "tail " * 900 + far_word


def words(database, title):
    """Return the lexemes of a note's search vector, and of its index keys."""
    [row] = database.rows(
        "SELECT array_to_string(tsvector_to_array(search_vector), ' ') AS vector,"
        " array_to_string(tsvector_to_array(note_search_keys(user_id, search_vector)), ' ')"
        " AS keys FROM note WHERE title = :title",
        title=title,
    )
    return set(row["vector"].split()), set(row["keys"].split())


# A short note, a long one and a long Korean one.
before_0017 = rows_at(
    PARENT,
    user=user("ann@example.com", "ann", password_hash="argon-hash"),
    note=[
        note("Short", "milk and eggs"),
        note("Long", long_content("zebra")),
        note("회의", "메모를 " * 2200 + "일기"),
    ],
)


def test_0017_reads_the_first_10000_characters_of_the_notes_already_written(
    before_0017, alembic_runner, database
):
    with kept(database, NOTES):
        assert "zebra" in words(database, "Long")[0]
        alembic_runner.migrate_up_to(REVISION)
    assert words(database, "Short") == ({"milk", "egg", "short"}, {"1:milk", "1:egg", "1:short"})
    vector, keys = words(database, "Long")
    # The word the limit splits is left out whole, not indexed as its first letters.
    assert vector == {"long", "giraff"} and keys == {"1:long", "1:giraff"}
    # 8,802 Korean characters (26,402 bytes): within the limit, all of it read.
    assert words(database, "회의")[0] == {"회의", "메모를", "일기"}


def test_0017_gives_the_previous_releases_writes_the_bounded_vector_too(
    before_0017, alembic_runner, database
):
    alembic_runner.migrate_up_to(REVISION)
    # What the previous release, still serving, writes: it never names search_vector.
    alembic_runner.insert_into("note", note("New", long_content("okapi", cut_word="x")))
    database.execute(
        "UPDATE note SET content = :content WHERE title = 'Short'", content=long_content("lemur")
    )
    assert "okapi" not in words(database, "New")[0] and "giraff" in words(database, "New")[0]
    assert "lemur" not in words(database, "Short")[0]
    database.execute("UPDATE note SET content = 'lemur' WHERE title = 'Short'")
    assert words(database, "Short")[0] == {"short", "lemur"}


def test_0017_downgrade_reads_whole_notes_again(before_0017, alembic_runner, database):
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.migrate_down_to(PARENT)
    assert {"zebra", "zanzibarian", "tail"} <= words(database, "Long")[0]
    assert database.rows("SELECT proname FROM pg_proc WHERE proname = 'note_search_prefix'") == []
    alembic_runner.insert_into("note", note("After", long_content("okapi")))
    assert "okapi" in words(database, "After")[0]
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
    assert "zebra" not in words(database, "Long")[0]
