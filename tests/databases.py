"""The suite's PostgreSQL server, its scratch databases, and migrations run by hand."""

import shutil
import uuid

from flask_migrate import downgrade, upgrade
from psycopg2 import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import database_uri
from devenv import services
from devenv.revisions import MIGRATIONS, head_revision

HEAD = head_revision()  # this code's newest revision


class Postgres:
    """The server the suite runs against, able to make scratch databases."""

    def __init__(self, main_url):
        self.main_url = main_url
        self.scratch = []

    def connect(self, url=None):
        return services.connect(url or self.main_url)

    def url_for(self, name):
        """Return the URL of database `name` on the same server."""
        return make_url(self.main_url).set(database=name).render_as_string(hide_password=False)

    def execute(self, *statements):
        """Run statements on the main database outside any transaction."""
        services.execute(self.main_url, *statements)

    def query(self, statement, parameters=()):
        """Return the rows (tuples) of one query on the main database."""
        return services.query(self.main_url, statement, parameters)

    def create_scratch_database(self):
        """Create an empty database for one test and return its URL."""
        name = f"memo_scratch_{uuid.uuid4().hex[:12]}"
        self.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.scratch.append(name)
        return self.url_for(name)

    def drop_scratch_databases(self):
        drop = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
        self.execute(*(sql.SQL(drop).format(sql.Identifier(name)) for name in self.scratch))
        self.scratch.clear()


class ScratchSchema:
    """An empty scratch database that a test migrates up and down revision by revision."""

    def __init__(self, url):
        self.url = url
        self.app = create_app(
            "config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": database_uri(url)}
        )

    def upgrade(self, revision="head"):
        with self.app.app_context():
            upgrade(revision=revision)

    def downgrade(self, revision):
        with self.app.app_context():
            downgrade(revision=revision)

    def execute(self, statement, **params):
        """Run one SQL statement in its own transaction."""
        with self.app.app_context(), db.engine.begin() as connection:
            connection.execute(text(statement), params)

    def rows(self, query, **params):
        """Return the rows of a query as dicts."""
        with self.app.app_context(), db.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(query), params)]

    def columns(self, table):
        """Return the names of a table's columns."""
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = :table"
        return {row["column_name"] for row in self.rows(query, table=table)}

    def current(self):
        """Return the revision the database is at, or None."""
        rows = self.rows(
            "SELECT version_num FROM alembic_version"
            if "alembic_version" in self.tables()
            else "SELECT NULL AS version_num WHERE false"
        )
        return rows[0]["version_num"] if rows else None

    def tables(self):
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        return {row["table_name"] for row in self.rows(query)}

    def dispose(self):
        with self.app.app_context():
            db.engine.dispose()


def newer_release(folder, upgrade_body, downgrade_body="pass", marks="", revision="9001"):
    """Copy migrations/ into `folder` and add one revision after the head; return `folder`."""
    shutil.copytree(MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    source = "\n".join(
        [
            '"""A revision of a newer release, written by the test."""',
            "import sqlalchemy as sa",
            "from alembic import op",
            "from migrations.ddl import create_index_concurrently",
            f'revision = "{revision}"',
            f'down_revision = "{HEAD}"',
            "branch_labels = None",
            "depends_on = None",
            marks,
            "def upgrade():",
            f"    {upgrade_body}",
            "def downgrade():",
            f"    {downgrade_body}",
            "",
        ]
    )
    (folder / "versions" / f"{revision}_test.py").write_text(source)
    return folder


def empty_tables(app):
    """Delete every row of every table of `app`'s database, and reset the ids."""
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def run_sql(app, statement, **params):
    """Run one SQL statement in `app`'s session and commit it."""
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def accepts_connections(url):
    """Return whether PostgreSQL at `url` takes a connection now (for waiting on a restart)."""
    try:
        services.query(url, "SELECT 1")
    except Exception:  # noqa: BLE001  (any refusal means: not yet)
        return False
    return True
