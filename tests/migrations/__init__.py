"""The migrations' tests: each revision up and down on rows, the chain, and the lint.

They move through the history with pytest-alembic's `alembic_runner` and read and write rows
with `database` (tests/migrations/conftest.py). A revision's parent is
`devenv.revisions.parent_revision(revision)`: Alembic's `down_revision`, read as `flask db`
reads it, the one helper the tests, the template databases and bench/ share.
"""

from datetime import timedelta

from sqlalchemy import func, text


class Database:
    """The scratch database a test migrates, read and written in plain SQL."""

    def __init__(self, engine):
        self.engine = engine

    def execute(self, statement, **params):
        """Run one SQL statement in its own transaction."""
        with self.engine.begin() as connection:
            connection.execute(text(statement), params)

    def rows(self, query, **params):
        """Return the rows of a query as dicts."""
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(query), params)]

    def columns(self, table):
        """Return the names of a table's columns."""
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = :table"
        return {row["column_name"] for row in self.rows(query, table=table)}

    def tables(self):
        """Return the names of the tables in the public schema."""
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        return {row["table_name"] for row in self.rows(query)}


def user(email="a@example.com", nickname="ann", **columns):
    """Return a user row for `insert_into`: the columns every revision has, and `columns`."""
    row = {"email": email, "nickname": nickname, "password_hash": "x", "created_at": func.now()}
    return {**row, **columns}


def note(title, content="body", user_id=1):
    """Return a note row for `insert_into`, naming the columns every revision has."""
    return {
        "title": title,
        "content": content,
        "created_at": func.now(),
        "updated_at": func.now(),
        "user_id": user_id,
    }


def counted(scope, subject):
    """Return a login_throttle row for `insert_into`: one attempt of `subject` counted now."""
    return {"scope": scope, "subject": subject, "failures": 1, "window_started_at": func.now()}


def mail_token(token_hash, purpose, email="a@example.com", valid_for=timedelta(0)):
    """Return a mail_token row of user 1 for `insert_into`, sent to `email`, expiring
    `valid_for` from now."""
    return {
        "token_hash": token_hash,
        "user_id": 1,
        "purpose": purpose,
        "email": email,
        "created_at": func.now(),
        "expires_at": func.now() + valid_for,
    }
