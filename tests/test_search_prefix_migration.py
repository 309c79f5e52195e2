"""Revision 0017 keeps the search vector to a long note's first characters, and undoes it."""

import pytest

from tests.revisions import parent_of

REVISION = "0017"
PARENT = parent_of(REVISION)
SEARCHED = 10_000  # the revision's limit, in characters
INSERT_USER = (
    'INSERT INTO "user" (email, nickname, password_hash, created_at)'
    " VALUES ('ann@example.com', 'ann', 'argon-hash', now())"
)
INSERT_NOTE = (
    "INSERT INTO note (title, content, created_at, updated_at, user_id)"
    " VALUES (:title, :content, now(), now(), 1)"
)
NOTE_COLUMNS = "id, title, content, created_at, updated_at, user_id, completed"


def long_content(far_word, cut_word="zanzibarian"):
    """Return 15,000 characters: `cut_word` across the limit, `far_word` after it."""
    head = "giraffe " * ((SEARCHED - 5) // 8)
    head += " " * (SEARCHED - 5 - len(head))
    return f"{head}{cut_word} " + "tail " * 900 + far_word


def words(schema, title):
    """Return the lexemes of a note's search vector, and of its index keys."""
    [row] = schema.rows(
        "SELECT array_to_string(tsvector_to_array(search_vector), ' ') AS vector,"
        " array_to_string(tsvector_to_array(note_search_keys(user_id, search_vector)), ' ')"
        " AS keys FROM note WHERE title = :title",
        title=title,
    )
    return set(row["vector"].split()), set(row["keys"].split())


@pytest.fixture
def before_0017(scratch_schema):
    """A database at 0017's parent: a short note, a long one and a long Korean one."""
    scratch_schema.upgrade(PARENT)
    scratch_schema.execute(INSERT_USER)
    scratch_schema.execute(INSERT_NOTE, title="Short", content="milk and eggs")
    scratch_schema.execute(INSERT_NOTE, title="Long", content=long_content("zebra"))
    scratch_schema.execute(INSERT_NOTE, title="회의", content="메모를 " * 2200 + "일기")
    return scratch_schema


def test_0017_reads_the_first_10000_characters_of_the_notes_already_written(before_0017):
    schema = before_0017
    kept = schema.rows(f"SELECT {NOTE_COLUMNS} FROM note ORDER BY id")
    assert "zebra" in words(schema, "Long")[0]
    schema.upgrade(REVISION)
    assert schema.rows(f"SELECT {NOTE_COLUMNS} FROM note ORDER BY id") == kept
    assert words(schema, "Short") == ({"milk", "egg", "short"}, {"1:milk", "1:egg", "1:short"})
    vector, keys = words(schema, "Long")
    # The word the limit splits is left out whole, not indexed as its first letters.
    assert vector == {"long", "giraff"} and keys == {"1:long", "1:giraff"}
    # 8,802 Korean characters (26,402 bytes): within the limit, all of it read.
    assert words(schema, "회의")[0] == {"회의", "메모를", "일기"}


def test_0017_gives_the_previous_releases_writes_the_bounded_vector_too(before_0017):
    schema = before_0017
    schema.upgrade(REVISION)
    # What the previous release, still serving, writes: it never names search_vector.
    schema.execute(INSERT_NOTE, title="New", content=long_content("okapi", cut_word="x"))
    schema.execute("UPDATE note SET content = :content WHERE title = 'Short'",
                   content=long_content("lemur"))  # fmt: skip
    assert "okapi" not in words(schema, "New")[0] and "giraff" in words(schema, "New")[0]
    assert "lemur" not in words(schema, "Short")[0]
    schema.execute("UPDATE note SET content = 'lemur' WHERE title = 'Short'")
    assert words(schema, "Short")[0] == {"short", "lemur"}


def test_0017_downgrade_reads_whole_notes_again(before_0017):
    schema = before_0017
    schema.upgrade(REVISION)
    schema.downgrade(PARENT)
    assert {"zebra", "zanzibarian", "tail"} <= words(schema, "Long")[0]
    assert schema.rows("SELECT proname FROM pg_proc WHERE proname = 'note_search_prefix'") == []
    schema.execute(INSERT_NOTE, title="After", content=long_content("okapi"))
    assert "okapi" in words(schema, "After")[0]
    schema.upgrade(REVISION)
    assert schema.current() == REVISION
    assert "zebra" not in words(schema, "Long")[0]
