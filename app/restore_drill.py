"""The restore drill (`flask restore-drill`): prove that a backup of the database comes back.

A backup is taken (pg_dump's custom format, as the platform's own backups are) or given,
restored into a scratch database, and checked there: every table is present, the schema is
at this release's head, each table holds the rows the source held when the backup was taken
(a fresh backup only: the dump and the counts read one snapshot), and a sample of the
attachments and photos it names exist in the bucket. It reports the recovery point (the
newest write in the backup) and how long the restore took. Any failure is one DrillFailed
whose message says what did not hold. See docs/operations.md.
"""

import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import DateTime, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import objects, pgtools, storage
from app.extensions import db
from app.models import Attachment, User
from app.schema import code_heads, database_heads

# Dumping or restoring a database the size the platform's logical backups are meant for
# (20 GB) takes well under this; a drill still running after it has failed.
TOOL_TIMEOUT_SECONDS = 4 * 3600
# The public schema's tables and partitioned tables, by name.
TABLES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
)
# Anything at all in the public schema (a database to restore into must hold nothing).
ANYTHING = text(
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'public'"
)


class DrillFailed(Exception):
    """The backup did not come back whole; the message says what did not hold."""


def engine_for(url):
    """Return an engine for one drill's few statements, with no timeout (counts take long)."""
    return create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": 5, "application_name": "memo-restore-drill"},
    )


def table_names(connection):
    """Return the names of the public schema's tables."""
    return set(connection.scalars(TABLES))


def row_counts(connection, names):
    """Return {table: its rows}, counted in the connection's transaction."""
    quote = connection.dialect.identifier_preparer.quote
    # The names are the catalog's own, quoted as identifiers.
    count = "SELECT count(*) FROM {}"
    return {name: connection.scalar(text(count.format(quote(name)))) for name in names}


def server_major(engine):
    """Return the major version of the PostgreSQL server behind `engine`."""
    with engine.connect() as connection:
        return int(connection.scalar(text("SHOW server_version_num"))) // 10_000


def same_database(first, second):
    """Whether two URLs name the same database on the same server."""
    a, b = make_url(first), make_url(second)
    return (a.host, a.port, a.database, a.query.get("host")) == (
        b.host,
        b.port,
        b.database,
        b.query.get("host"),
    )


class Drill:
    """One run of the drill: its source, its backup, its scratch database and what it found."""

    def __init__(self, source_url, dump=None, into=None, bin_dir=None, sample=20, say=print):
        self.source_url, self.dump, self.into = source_url, dump, into
        self.bin_dir, self.sample, self.say = bin_dir, sample, say
        self.source_counts = None  # a fresh backup's rows per table, from its snapshot

    def run(self):
        """Take or read the backup, restore it, check it; raise DrillFailed on any failure."""
        try:
            self.run_steps()
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0]
            raise DrillFailed(f"a database did not answer: {reason}") from None

    def run_steps(self):
        """The drill's steps, in order."""
        source = engine_for(self.source_url)
        try:
            tools = pgtools.find_tools(server_major(source), self.bin_dir)
        except pgtools.ToolsMissing as error:
            raise DrillFailed(str(error)) from None
        finally:
            source.dispose()
        with tempfile.TemporaryDirectory(prefix="memo-drill-") as folder:
            dump = Path(self.dump) if self.dump else self.take_backup(tools, Path(folder))
            self.read_table_of_contents(tools, dump)
            with self.scratch_database() as target_url:
                seconds, failure = self.restore(tools, dump, target_url)
                self.check(target_url, failure)
                self.say(f"restore: {seconds:.1f} s")

    def take_backup(self, tools, folder):
        """Dump the source (custom format) and count its rows, both in one snapshot."""
        dump = folder / "memo.dump"
        target, environment = pgtools.libpq_target(self.source_url)
        engine = engine_for(self.source_url)
        started = time.monotonic()
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
                connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
                snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
                self.source_counts = row_counts(connection, table_names(connection))
                arguments = ["--format=custom", f"--snapshot={snapshot}", f"--file={dump}"]
                pgtools.run(
                    tools, "pg_dump", [*arguments, target], environment, TOOL_TIMEOUT_SECONDS
                )
                connection.rollback()
        except pgtools.ToolFailed as error:
            raise DrillFailed(f"the backup could not be taken: {error}") from None
        finally:
            engine.dispose()
        size = dump.stat().st_size
        self.say(
            f"backup: pg_dump {tools.major}, {size:,} bytes in {time.monotonic() - started:.1f} s"
        )
        return dump

    def read_table_of_contents(self, tools, dump):
        """Fail unless pg_restore can read the backup's table of contents."""
        if not dump.is_file():
            raise DrillFailed(f"no backup file at {dump}")
        try:
            pgtools.run(tools, "pg_restore", ["--list", str(dump)], None, TOOL_TIMEOUT_SECONDS)
        except pgtools.ToolFailed as error:
            raise DrillFailed(f"the backup cannot be read: {error}") from None

    @contextmanager
    def scratch_database(self):
        """Yield the URL of an empty database to restore into, emptied or dropped afterwards."""
        if self.into:
            yield from self.borrowed_database()
            return
        name = f"memo_drill_{uuid.uuid4().hex[:12]}"
        admin = engine_for(self.source_url).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.say(f"scratch database: {name}")
            yield make_url(self.source_url).set(database=name).render_as_string(False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    def borrowed_database(self):
        """Yield the empty database `--into` names, and empty it again afterwards."""
        if same_database(self.into, self.source_url):
            raise DrillFailed("--into names the app's own database; name an empty one")
        engine = engine_for(self.into)
        with engine.connect() as connection:
            if connection.scalar(ANYTHING):
                engine.dispose()
                raise DrillFailed("the database --into names is not empty")
        try:
            yield self.into
        finally:
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()

    def restore(self, tools, dump, target_url):
        """Restore the backup; return (seconds, pg_restore's error or None)."""
        target, environment = pgtools.libpq_target(target_url)
        arguments = ["--no-owner", "--no-privileges", f"--dbname={target}", str(dump)]
        started = time.monotonic()
        try:
            pgtools.run(tools, "pg_restore", arguments, environment, TOOL_TIMEOUT_SECONDS)
            failure = None
        except pgtools.ToolFailed as error:
            failure = str(error)
        return time.monotonic() - started, failure

    def check(self, target_url, failure):
        """Check the restored database (tables, restore errors, schema, rows, objects)."""
        engine = engine_for(target_url)
        try:
            with engine.connect() as connection:
                restored = table_names(connection)
                self.check_tables(connection, restored)
                if failure:
                    raise DrillFailed(f"the backup could not be restored whole: {failure}")
                self.check_head(connection)
                self.check_rows(connection, restored)
            with Session(engine) as session:
                self.check_objects(session)
                self.say(f"recovery point: {recovery_point(session)} (the newest write)")
        finally:
            engine.dispose()

    def check_tables(self, connection, restored):
        """Fail if a table of the app (or of the source, for a fresh backup) is missing."""
        expected = set(db.metadata.tables) | set(self.source_counts or ())
        if missing := sorted(expected - restored):
            # A backup older than this release lacks its newer tables: the revision says so.
            revision = ", ".join(sorted(database_heads(connection))) or "none"
            raise DrillFailed(
                f"the restored database lacks table(s): {', '.join(missing)}"
                f" (its schema is at revision {revision})"
            )
        self.say(f"tables: {len(restored)}, every one of the app's present")

    def check_head(self, connection):
        """Fail unless the restored schema is at this release's head revision."""
        heads, expected = database_heads(connection), code_heads()
        if heads != expected:
            found = ", ".join(sorted(heads)) or "none"
            raise DrillFailed(
                f"the restored schema is at revision {found}, not this release's head"
                f" {', '.join(sorted(expected))}"
            )
        self.say(f"schema: at head {', '.join(sorted(heads))}")

    def check_rows(self, connection, restored):
        """Fail if a table holds other rows than the source held at the backup's snapshot."""
        if self.source_counts is None:
            self.say("rows: not compared (a backup taken earlier; the source has changed since)")
            return
        counts = row_counts(connection, restored)
        differ = [
            f"{name} {self.source_counts[name]} -> {counts.get(name)}"
            for name in sorted(self.source_counts)
            if counts.get(name) != self.source_counts[name]
        ]
        if differ:
            raise DrillFailed(f"row counts differ from the source: {'; '.join(differ)}")
        self.say(f"rows: {sum(counts.values()):,} in {len(counts)} tables, as in the source")

    def check_objects(self, session):
        """Fail if a sampled attachment or photo the backup names is missing from the bucket."""
        if not self.sample:
            self.say("objects: not looked up (--sample 0)")
            return
        keys = sampled_keys(session, self.sample)
        if not keys:
            self.say("objects: the backup names no attachment or photo")
            return
        try:
            missing = [key for key in keys if not object_exists(key)]
        except storage.StorageError as error:
            raise DrillFailed(f"the bucket could not be checked: {error}") from None
        if missing:
            raise DrillFailed(
                f"{len(missing)} of {len(keys)} sampled objects missing from the bucket:"
                f" {', '.join(missing)}"
            )
        self.say(f"objects: {len(keys)} sampled attachments and photos, all in the bucket")


def sampled_keys(session, sample):
    """Return up to `sample` attachments' keys and as many photos' keys, chosen at random."""
    attachments = session.scalars(
        select(Attachment.key)
        .where(Attachment.state == "confirmed")
        .order_by(func.random())
        .limit(sample)
    )
    photos = session.scalars(
        select(User.image_url)
        .where(User.image_url.is_not(None))
        .order_by(func.random())
        .limit(sample)
    )
    return [*attachments, *filter(None, map(objects.key_for_url, photos))]


def object_exists(key):
    """Whether the bucket holds an object under `key`."""
    try:
        storage.head(key)
    except storage.ObjectMissing:
        return False
    return True


def recovery_point(session):
    """Return the newest time any row of the app's tables records as written, or "none".

    Every timestamp column but those in the future by design (a link's `expires_at`).
    """
    newest = []
    for table in db.metadata.sorted_tables:
        columns = [
            column
            for column in table.columns
            if isinstance(column.type, DateTime) and not column.name.startswith("expires")
        ]
        if columns:
            newest.append(session.scalar(select(func.greatest(*(func.max(c) for c in columns)))))
    found = [moment for moment in newest if moment is not None]
    return max(found).isoformat(timespec="seconds") if found else "none"
