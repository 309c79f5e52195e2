"""Each page makes a small, fixed number of queries, however many notes exist (no N+1)."""

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db


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
def test_notes_list_queries_do_not_grow_with_notes(user, queries, path):
    def measure():
        page = user.get("/").get_data(as_text=True)
        target = path
        if path in ("before", "after"):
            older = re.search(r'href="(/\?before=[^"]+)"', page).group(1)
            target = older if path == "before" else "/?after=0-0"
        return count_for(user, queries, target)

    for number in range(45):
        user.create_note(f"note {number}")
    few = measure()
    for number in range(60):
        user.create_note(f"more {number}")
    assert measure() == few
    assert few <= 3, few


def test_note_page_queries_are_fixed(user, queries):
    location = user.create_note().headers["Location"]
    for number in range(30):
        user.create_note(f"other {number}")
    assert count_for(user, queries, location) <= 2
