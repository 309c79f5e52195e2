"""The suite's PostgreSQL server, its scratch databases, and migrations run by hand."""

import io
import shutil
import uuid

from flask_migrate import upgrade
from psycopg2 import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app, migrating
from app.extensions import db
from config import database_uri
from devenv import services
from devenv.revisions import MIGRATIONS, head_revision, parent_revision
from devenv.services import stored_tags
from tests.note_writers import set_up_directly

HEAD = head_revision()  # this code's newest revision
# The settings of an app whose database does not answer (nothing listens on port 1).
UNREACHABLE = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://nobody@127.0.0.1:1/none"}


class Postgres:
    """The server the suite runs against, able to make scratch databases."""

    def __init__(self, main_url):
        self.main_url = main_url
        self.scratch = []
        self.templates = Templates(self)

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
        self.templates.built.clear()


class Templates:
    """A database at each revision, migrated once per run, for tests to start from a copy.

    Each is built lazily from its parent's (one revision's upgrade), so the whole chain
    runs once however many tests start at some revision. The tests whose point is the
    upgrade from an empty database run it themselves.
    """

    def __init__(self, postgres):
        self.postgres = postgres
        self.built = set()

    @staticmethod
    def name(revision):
        return f"memo_template_{revision}"

    def ensure(self, revision):
        """Build the template at `revision` (and its ancestors') unless built; return its name."""
        name = self.name(revision)
        if revision in self.built:
            return name
        parent = parent_revision(revision)
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        # The first revision, or a merge revision (a tuple of parents), starts from empty.
        if isinstance(parent, str):
            create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(self.ensure(parent)))
        self.postgres.execute(create)
        self.postgres.scratch.append(name)
        schema = ScratchSchema(self.postgres.url_for(name))
        schema.upgrade(revision)
        schema.dispose()  # a template takes no connection while it is copied
        self.built.add(revision)
        return name

    def copy_into(self, revision, url):
        """Replace the database at `url` with a copy of the template at `revision`."""
        template, target = self.ensure(revision), make_url(url).database
        self.postgres.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target)),
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(target), sql.Identifier(template)
            ),
        )


def stored_object(store, key):
    """Return an object's body and content type."""
    got = store.client().get_object(Bucket=store.bucket, Key=key)
    return got["Body"].read(), got["ContentType"]


class SavedState:
    """The rows of the app's tables and the stored objects as they are now, to be put back
    before each test of a module that builds an expensive starting point once.

    A test that starts from it leaves the state in place (conftest.py): the next such test
    puts back only what was changed, and any other test, or the module's end, discards it.
    """

    left = None  # the saved state whose rows and objects a test left in place

    def __init__(self, postgres, app, store):
        self.postgres, self.app, self.store = postgres, app, store
        self.tags = stored_tags(store)
        self.objects = {key: stored_object(store, key) for key in self.tags}
        self.tables = [table.name for table in app_tables(app)]
        connection = postgres.connect()
        try:
            with connection.cursor() as cursor:
                self.rows = {name: copy_out(cursor, name) for name in self.tables}
                cursor.execute(MOVED_SEQUENCES, {"tables": self.tables})
                self.sequences = cursor.fetchall()
        finally:
            connection.close()

    def restore(self):
        """Put the saved rows, ids and objects back (tables in the order their keys need)."""
        empty_tables(self.app)
        with self.app.app_context():
            # The app's pooled connection: a new one started a PostgreSQL backend a test.
            connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                for name in self.tables:
                    cursor.copy_expert(f'COPY "{name}" FROM STDIN', io.BytesIO(self.rows[name]))
                for sequence, value in self.sequences:
                    cursor.execute("SELECT setval(%s, %s)", (sequence, value))
            connection.commit()
        finally:
            connection.close()  # back to the pool
        # Only what a test changed goes back: most change no object (each put costs moto a
        # request), and the bucket is not emptied between the module's tests.
        client, now = self.store.client(), stored_tags(self.store)
        added = [{"Key": key} for key in now if key not in self.objects]
        if added:
            client.delete_objects(Bucket=self.store.bucket, Delete={"Objects": added})
        for key, (body, content_type) in self.objects.items():
            if now.get(key) != self.tags[key]:
                client.put_object(
                    Bucket=self.store.bucket, Key=key, Body=body, ContentType=content_type
                )
        SavedState.left = self

    def discard(self):
        """Empty the tables and the bucket, as after any test, if a test left this state."""
        if SavedState.left is self:
            SavedState.left = None
            empty_tables(self.app)
            self.store.empty()


def discard_left_state():
    """Empty the tables and the bucket if a test left a saved state in place."""
    if SavedState.left is not None:
        SavedState.left.discard()


def copy_out(cursor, table):
    """Return a table's rows in COPY's text format."""
    buffer = io.BytesIO()
    cursor.copy_expert(f'COPY "{table}" TO STDOUT', buffer)
    return buffer.getvalue()


def app_tables(app):
    """Return the app's tables, each after the tables its foreign keys name."""
    with app.app_context():
        return db.metadata.sorted_tables


class ScratchSchema:
    """A scratch database and an app on it, migrated by the code of `flask db upgrade`."""

    def __init__(self, url):
        self.url = url
        self.app = create_app(
            "config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": database_uri(url)}
        )
        migrating.init_app(self.app)

    def upgrade(self, revision):
        with self.app.app_context():
            upgrade(revision=revision)

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


def skip_durability(admin_url):
    """Make a throwaway server skip the disk flushes that only a crash would need."""
    settings = ("fsync", "synchronous_commit", "full_page_writes")
    services.execute(
        admin_url,
        *(f"ALTER SYSTEM SET {name} = off" for name in settings),
        "SELECT pg_reload_conf()",
    )


# The id sequences of these tables (the ones their columns own) that have handed out an id.
MOVED_SEQUENCES = (
    "SELECT quote_ident(sequence.relname), state.last_value FROM pg_class sequence"
    " JOIN pg_depend owned ON owned.objid = sequence.oid AND owned.deptype IN ('a', 'i')"
    " JOIN pg_class owner ON owner.oid = owned.refobjid"
    " JOIN pg_sequences state ON state.schemaname = current_schema()"
    " AND state.sequencename = sequence.relname"
    " WHERE sequence.relkind = 'S' AND owner.relname = ANY(%(tables)s)"
    " AND state.last_value IS NOT NULL"
)
# The same sequences started again at 1, by the server in one statement.
RESTART_MOVED_SEQUENCES = (
    f"DO $$ DECLARE moved record; BEGIN FOR moved IN {MOVED_SEQUENCES} LOOP"
    " EXECUTE 'ALTER SEQUENCE ' || moved.quote_ident || ' RESTART'; END LOOP; END $$"
)


# Past this many rows in a table, one TRUNCATE is cheaper than deleting them row by row.
MANY_ROWS = 1000


def empty_tables(app):
    """Delete every row of every table of `app`'s database, and reset the ids.

    Most tests leave a few rows in a few tables: a DELETE of each table holding rows, the
    tables that reference others first, takes a few milliseconds, where a TRUNCATE makes new
    files for every table and index it empties (about 0.2 s a test). A test that left many
    rows has them truncated. Every id sequence a test moved then starts again at 1. The
    tables are first locked against writers, as TRUNCATE locks them: a write still under way
    (a server's, a worker's) ends before the rows are counted, and none starts before the end.
    Two round trips in all (the lock and the count; the deletes and the sequences), where a
    statement each took 22 a test.
    """
    with app.app_context():
        db.session.remove()
        names = [table.name for table in db.metadata.sorted_tables]
        every_table = ", ".join(f'"{name}"' for name in names)
        holding = " UNION ALL ".join(
            f"SELECT '{name}', EXISTS (SELECT FROM \"{name}\" OFFSET {MANY_ROWS})"
            f' WHERE EXISTS (SELECT FROM "{name}")'
            for name in names
        )
        with set_up_directly(), db.engine.begin() as connection:  # the rows of the test that ended
            locked = f"LOCK TABLE {every_table} IN SHARE ROW EXCLUSIVE MODE; {holding}"
            used = dict(connection.exec_driver_sql(locked).all())
            if any(used.values()):
                tables = ", ".join(f'"{name}"' for name in used)
                emptied = [f"TRUNCATE {tables} RESTART IDENTITY CASCADE"]
            else:  # a table before the tables it references
                emptied = [f'DELETE FROM "{name}"' for name in reversed(names) if name in used]
            statements = "; ".join([*emptied, RESTART_MOVED_SEQUENCES])
            connection.exec_driver_sql(statements, {"tables": names})


def run_sql(app, statement, **params):
    """Run one SQL statement in `app`'s session and commit it."""
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def sql_rows(app, query, **params):
    """Return the rows of one SQL query, read in `app`'s session."""
    with app.app_context():
        return db.session.execute(text(query), params).all()


def accepts_connections(url):
    """Return whether PostgreSQL at `url` takes a connection now (for waiting on a restart)."""
    try:
        services.query(url, "SELECT 1")
    except Exception:  # noqa: BLE001  (any refusal means: not yet)
        return False
    return True
