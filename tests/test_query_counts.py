"""Pages make a fixed number of queries and read a fixed number of blocks, however many notes."""

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.features.notes import service
from app.models import Note, User, WordCount
from app.revalidation import SCRIPTS_COOKIE
from devenv.uploads import Attacher
from tests.note_writers import set_up_directly


@pytest.fixture
def queries(app):
    """Return a context manager that collects the SQL statements run inside it."""

    @contextmanager
    def collect():
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return collect


def count_for(user, queries, path):
    with queries() as statements:
        assert user.get(path).status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["/", "/?page=2", "before", "after"])
def test_notes_list_queries_do_not_grow_with_notes(app, user, queries, path):
    def measure():
        page = user.get("/").get_data(as_text=True)
        target = path
        if path in ("before", "after"):
            older = re.search(r'href="(/\?before=[^"]+)"', page).group(1)
            target = older if path == "before" else "/?after=0-0"
        return count_for(user, queries, target)

    write_notes(app, [f"note {number}" for number in range(45)])
    few = measure()
    write_notes(app, [f"more {number}" for number in range(60)])
    assert measure() == few
    assert few <= 3, few


def test_note_page_queries_are_fixed(app, user, queries):
    location = user.create_note().headers["Location"]
    for number in range(30):
        user.create_note(f"other {number}")
    made = count_for(user, queries, location)
    Attacher(user).attach(1, b"%PDF-1.7\n", "a.pdf")
    Attacher(user).attach(1, b"%PDF-1.7\n", "b.pdf")
    user.get(location)  # its message read
    assert count_for(user, queries, location) == made
    # The session with its user, one statement for all the page shows and decides its tag
    # by (app/features/note_page/view.py), then its attachments, its live share links and
    # the notes that link to it ("linked from": one statement, by index, issue 91).
    assert made == 5, made


def write_notes(app, titles):
    """Give ann notes with these titles as the note writer makes them (an import's way: the
    pages are under test, not the form)."""
    with app.app_context():
        owner = db.session.scalar(select(User.id).where(User.email == "ann@example.com"))
        service.create_many(owner, [{"title": title, "content": "words"} for title in titles])
        db.session.commit()


def add_notes(app, number):
    """Give ann `number` more notes, written straight to the table (the pages are under test)."""
    with app.app_context(), set_up_directly():
        owner = db.session.scalar(select(User).where(User.email == "ann@example.com"))
        db.session.add_all(Note(title=f"bulk {n}", user_id=owner.id) for n in range(number))
        db.session.commit()


def add_results(app, number):
    """Give ann `number` more word counts, written straight to the table."""
    counts = {"total": 3, "distinct": 2, "top": [["memo", 2], ["notes", 1]]}
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == "ann@example.com"))
        db.session.add_all(
            WordCount(
                url=f"https://example.com/{n}",
                all_words=counts,
                without_stop_words=counts,
                user_id=owner.id,
            )
            for n in range(number)
        )
        db.session.commit()


def test_my_page_queries_do_not_grow_with_notes(app, user, queries):
    few = count_for(user, queries, "/mypage")
    add_notes(app, 200)
    add_results(app, 30)
    assert count_for(user, queries, "/mypage") == few
    # The signed-in user, loaded with the session, their latest photo upload's state, a move to
    # a new address waiting for its link, the latest export, the latest import and the live
    # share links; nothing per note.
    assert few == 6, few


def test_the_export_page_queries_do_not_grow_with_notes(app, user, queries):
    add_notes(app, 3)
    few = count_for(user, queries, "/mypage/export")
    add_notes(app, 200)
    add_results(app, 30)
    assert count_for(user, queries, "/mypage/export") == few
    assert few <= 2, few  # the user, loaded with the session, and the latest export


@pytest.mark.parametrize("path", ["/wordcount", "/wordcount?page=2"])
def test_word_count_list_queries_do_not_grow_with_results(app, user, queries, path):
    add_results(app, 25)
    few = count_for(user, queries, path)
    add_results(app, 100)
    assert count_for(user, queries, path) == few
    assert few <= 3, few  # the user, the total for the pager, one page of results


def test_word_count_result_page_queries_are_fixed(app, user, queries):
    add_results(app, 30)
    page = user.get("/wordcount").get_data(as_text=True)
    location = re.search(r'href="(/wordcount/\d+)"', page).group(1)
    assert count_for(user, queries, location) <= 2


@pytest.mark.parametrize("suffix", ["/edit", "/wordcount"])
def test_note_form_and_note_word_count_queries_are_fixed(app, user, queries, suffix):
    location = user.create_note().headers["Location"]
    add_notes(app, 100)
    assert count_for(user, queries, f"{location}{suffix}") <= 2


def statements_run(app, browser, path):
    """GET a path as `browser`; return the (statement, parameters) the page ran."""
    executed = []

    def record(conn, cursor, statement, parameters, context, executemany):
        executed.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert browser.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return executed


@pytest.fixture
def buffers_read(app):
    """Return a function: the PostgreSQL buffers that GETting a path reads, all queries summed.

    Each query the page runs is run again under EXPLAIN (ANALYZE, BUFFERS) with the same
    parameters: a page's cost in pages of table and index touched, not in time.
    """

    def measure(browser, path):
        total = 0
        with app.app_context(), db.engine.connect() as connection:
            for statement, parameters in statements_run(app, browser, path):
                explained = connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
                ).scalar()
                plan = explained[0]["Plan"]
                total += plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
        return total

    return measure


def add_many_notes(app, email, number, content="words"):
    """Give a user `number` notes a second apart, in one INSERT (a big account, made fast)."""
    with app.app_context(), set_up_directly(), db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO note (title, content, created_at, updated_at, user_id, completed)"
                " SELECT 'note ' || n, :content, now() - n * interval '1 second', now(), u.id,"
                ' false FROM generate_series(1, :number) AS n, "user" AS u WHERE u.email = :email'
            ),
            {"number": number, "email": email, "content": content},
        )
        connection.execute(text("ANALYZE note"))


def middle_cursor(browser, pages):
    """Follow `Older` links `pages` times from the first page; return the last link."""
    link = "/"
    for _ in range(pages):
        page = browser.get(link).get_data(as_text=True)
        link = re.search(r'href="(/\?before=[^"]+)"', page).group(1).replace("&amp;", "&")
    return link


def test_a_page_reads_as_much_with_20000_notes_as_with_100(app, user, other_user, buffers_read):
    add_many_notes(app, "ann@example.com", 100)
    add_many_notes(app, "bob@example.com", 20_000)
    for path in ("/", "/?after=0-0", "middle"):
        small = buffers_read(user, middle_cursor(user, 3) if path == "middle" else path)
        big = buffers_read(other_user, middle_cursor(other_user, 3) if path == "middle" else path)
        # 7 to 10 blocks each here; a deeper index may cost a block more per lookup.
        assert big <= small + 3, (path, small, big)
    # The measure can tell: an OFFSET page deep into the big account reads 500 blocks.
    assert buffers_read(other_user, "/?page=900") > 10 * buffers_read(other_user, "/?after=0-0")


@pytest.mark.parametrize("path", ["/search", "/search?q=bulk", "/search?q=bulk&page=2"])
def test_search_page_queries_do_not_grow_with_notes(app, user, queries, path):
    add_notes(app, 45)
    few = count_for(user, queries, path)
    add_notes(app, 200)
    assert count_for(user, queries, path) == few
    # The user; then for a query its budget (a search slot and the time limit), its words
    # as PostgreSQL normalizes them, and one page of ranked matches with their highlights.
    assert few == (1 if path == "/search" else 4), few


def plan_of(app, browser, path):
    """Return the EXPLAIN text of the search page's ranked query, as run for `browser`."""
    statements = statements_run(app, browser, path)
    statement, parameters = next(pair for pair in statements if "ts_rank" in pair[0])
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
        return "\n".join(rows)


def test_a_search_reads_as_much_however_many_notes_other_users_have(
    app, user, other_user, buffers_read
):
    # Ann has 2,000 notes, 30 of them with "zebra": the index, not her list, finds them.
    add_many_notes(app, "ann@example.com", 2_000)
    add_many_notes(app, "ann@example.com", 30, "zebra crossing")
    add_many_notes(app, "bob@example.com", 100)
    alone = buffers_read(user, "/search?q=zebra")
    # Bob's 20,000 notes all hold the word Ann searches for.
    add_many_notes(app, "bob@example.com", 20_000, "zebra crossing")
    assert "Bitmap Index Scan on ix_note_search_keys" in plan_of(app, user, "/search?q=zebra")
    crowded = buffers_read(user, "/search?q=zebra")
    assert crowded <= alone + 3, (alone, crowded)
    # The measure can tell: Bob's own search of the same word reads his 20,000 matches.
    assert buffers_read(other_user, "/search?q=zebra") > 10 * crowded


def test_a_304_reads_no_more_than_its_page(user, queries):
    """The list's 304 reads only the signed-in user with its change number; a note's reads
    what its page shows (app/revalidation.py), and nothing is made of it."""
    user.client.set_cookie(SCRIPTS_COOKIE, "1")
    location = user.create_note().headers["Location"]
    user.get("/tags")  # the save's message read
    for path, most in (("/", 1), (location, 6)):
        tag = user.get(path).headers["ETag"]
        with queries() as statements:
            assert user.get(path, headers={"If-None-Match": tag}).status_code == 304
        assert len(statements) <= most, (path, statements)
