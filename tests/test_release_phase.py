"""The release phase (`flask db upgrade`) against a database the previous release is using.

Each test runs the real command in a subprocess, as the platform does, against a
scratch database; some add a revision to a copy of migrations/ to play a newer
release or a broken one.
"""

import re
import threading
import time

import psycopg2
import pytest

from devenv import ROOT
from devenv.flaskdb import start_flask
from devenv.services import execute, query
from tests.databases import HEAD


class Release:
    """`flask db ...` for one release's migrations folder against one database."""

    def __init__(self, url, directory=ROOT / "migrations", **settings):
        self.url = url
        self.directory = directory
        self.settings = settings

    def start(self, *args):
        return start_flask(
            self.url, "db", *args, "--directory", str(self.directory), **self.settings
        )

    def run(self, *args):
        """Run a command; return (exit code, output)."""
        process = self.start(*args)
        output, _ = process.communicate(timeout=120)
        return process.returncode, output

    def upgrade(self, revision="head"):
        code, output = self.run("upgrade", revision)
        assert code == 0, output
        return output


def version(url):
    return [row[0] for row in query(url, "SELECT version_num FROM alembic_version")]


def columns(url, table):
    rows = query(
        url, "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
    )
    return {row[0] for row in rows}


def with_colour(newer_release):
    """Write a newer release that adds note.colour, marked backward compatible."""
    return newer_release(
        'op.add_column("note", sa.Column("colour", sa.Text()))',
        'op.drop_column("note", "colour")',
        marks="backward_compatible = True",
    )


def last_line(output):
    return output.strip().splitlines()[-1]


@pytest.fixture
def scratch_url(app, postgres):
    """An empty scratch database, as a URL."""
    return postgres.create_scratch_database()


def test_three_upgrades_started_at_once_all_succeed(scratch_url):
    release = Release(scratch_url)
    processes = [release.start("upgrade") for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert version(scratch_url) == [HEAD]
    assert sum("Running upgrade  -> 0001" in output for output in outputs) == 1


def test_an_upgrade_with_nothing_to_do_runs_no_revision(scratch_url):
    release = Release(scratch_url)
    release.upgrade()
    output = release.upgrade()
    assert "Running upgrade" not in output
    assert version(scratch_url) == [HEAD]


def hold_lock_on_notes(url, seconds, statement="SELECT count(*) FROM note"):
    """Keep a transaction that has run `statement` open for `seconds` (None: until released)."""
    connection = psycopg2.connect(url)
    cursor = connection.cursor()
    cursor.execute(f"BEGIN; {statement}")
    released = threading.Event()

    def release():
        released.wait(seconds)
        connection.rollback()
        connection.close()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return released, thread


def before_0003_with_a_note(release, scratch_url):
    """Upgrade to 0002, the revision before 0003 (which alters note), and write one note."""
    release.upgrade("0002")
    execute(
        scratch_url,
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'x', now())",
    )
    execute(
        scratch_url,
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " VALUES ('kept', '', now(), now(), 1)",
    )


def test_a_revision_that_waits_on_a_lock_is_retried_until_it_succeeds(scratch_url):
    fast = {"MIGRATION_LOCK_TIMEOUT_MS": 300, "MIGRATION_RETRY_DELAY_MS": 200}
    release = Release(scratch_url, MIGRATION_ATTEMPTS=8, **fast)
    before_0003_with_a_note(release, scratch_url)
    released, blocker = hold_lock_on_notes(scratch_url, seconds=None)
    upgrading = release.start("upgrade")
    output = []
    for line in upgrading.stdout:  # the lock is released once the first attempt gave up
        output.append(line)
        if "Attempt 1 of 8" in line:
            released.set()
    upgrading.wait(timeout=60)
    blocker.join()
    output = "".join(output)
    assert upgrading.returncode == 0, output
    assert re.search(r"canceling statement due to lock timeout; retrying in 0\.[0-2]\d s", output)
    assert version(scratch_url) == [HEAD]
    assert query(scratch_url, "SELECT title, completed FROM note") == [("kept", False)]


def read_notes_until(url, stop, waits):
    """Read `note` in short transactions until `stop` is set, recording each query's wait."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        while not stop.is_set():
            started = time.monotonic()
            cursor.execute("SELECT count(*) FROM note")
            waits.append(time.monotonic() - started)
            time.sleep(0.02)
    connection.close()


def test_readers_wait_at_most_the_lock_timeout_behind_a_migration_that_waits(scratch_url):
    release = Release(scratch_url)  # the default lock timeout, attempts and backoff
    before_0003_with_a_note(release, scratch_url)
    writer_done, writer = hold_lock_on_notes(scratch_url, None, "UPDATE note SET title = title")
    reading_done, waits = threading.Event(), []
    reader = threading.Thread(target=read_notes_until, args=(scratch_url, reading_done, waits))
    reader.start()
    upgrading = release.start("upgrade")
    output = []
    for line in upgrading.stdout:  # the writer commits once the migration has missed twice
        output.append(line)
        if "Attempt 2 of" in line:
            writer_done.set()
    upgrading.wait(timeout=120)
    reading_done.set()
    reader.join()
    writer.join()
    output = "".join(output)
    assert upgrading.returncode == 0, output
    assert version(scratch_url) == [HEAD]
    # Readers did queue behind the waiting ALTER, and never for longer than its lock timeout.
    assert max(waits) > 0.3, f"no reader waited behind the migration: {max(waits):.2f} s"
    assert max(waits) < 0.9, f"a reader waited {max(waits):.2f} s behind the migration"


def test_a_lock_that_never_frees_fails_in_one_line_and_changes_nothing(scratch_url):
    release = Release(
        scratch_url,
        MIGRATION_LOCK_TIMEOUT_MS=200,
        MIGRATION_ATTEMPTS=2,
        MIGRATION_RETRY_DELAY_MS=100,
    )
    release.upgrade("0002")  # the revision before 0003, which alters note
    released, blocker = hold_lock_on_notes(scratch_url, seconds=None)
    code, output = release.run("upgrade")
    released.set()
    blocker.join()
    assert code == 1
    line = last_line(output)
    assert "could not get its lock after 2 attempts" in line
    assert "The database is still at 0002" in line
    assert version(scratch_url) == ["0002"]
    assert "completed" not in columns(scratch_url, "note")


def test_a_failing_revision_leaves_the_previous_revision_and_says_why(scratch_url, newer_release):
    broken = newer_release(
        'op.add_column("note", sa.Column("half_done", sa.Integer()))\n'
        '    op.execute("SELECT 1 / 0")'
    )
    code, output = Release(scratch_url, broken).run("upgrade")
    assert code == 1
    line = last_line(output)
    assert f"revision 9001 failed: division by zero; the database is still at {HEAD}" in line
    assert version(scratch_url) == [HEAD]
    assert "half_done" not in columns(scratch_url, "note")


def test_rollback_to_an_older_release_keeps_a_compatible_newer_schema(scratch_url, newer_release):
    newer = with_colour(newer_release)
    Release(scratch_url, newer).upgrade()
    code, output = Release(scratch_url).run("upgrade")
    assert code == 0, output
    assert "ahead of this release's head" in output and "left as it is" in output
    assert version(scratch_url) == ["9001"]
    assert "colour" in columns(scratch_url, "note")


def test_rollback_to_an_older_release_refuses_an_unmarked_newer_schema(scratch_url, newer_release):
    newer = newer_release(
        'op.alter_column("note", "title", new_column_name="heading")',
        'op.alter_column("note", "heading", new_column_name="title")',
    )
    Release(scratch_url, newer).upgrade()
    code, output = Release(scratch_url).run("upgrade")
    assert code == 1
    line = last_line(output)
    assert "revision 9001 is not marked backward compatible" in line
    assert f"flask db downgrade {HEAD}" in line
    assert version(scratch_url) == ["9001"]


def test_readiness_accepts_a_compatible_newer_schema(app, scratch_url, newer_release):
    from app import create_app
    from config import database_uri

    newer = with_colour(newer_release)
    Release(scratch_url, newer).upgrade()
    older = create_app(
        "config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": database_uri(scratch_url)}
    )
    response = older.test_client().get("/readyz")
    assert response.status_code == 200
    assert "marked backward compatible" in response.json["note"]


def test_the_newer_release_can_downgrade_after_a_rollback(scratch_url, newer_release):
    newer = with_colour(newer_release)
    Release(scratch_url, newer).upgrade()
    code, output = Release(scratch_url, newer).run("downgrade", HEAD)
    assert code == 0, output
    assert version(scratch_url) == [HEAD]
    assert "colour" not in columns(scratch_url, "note")


def test_offline_sql_has_one_transaction_per_revision_and_the_timeouts(scratch_url):
    code, output = Release(scratch_url).run("upgrade", "--sql")
    assert code == 0, output
    revisions = len(list((ROOT / "migrations" / "versions").glob("*.py")))
    per_revision = output.split("-- Running upgrade")[1:]
    assert len(per_revision) == revisions
    assert all("COMMIT;" in sql for sql in per_revision), "a revision shares a transaction"
    assert output.count("BEGIN;") == output.count("COMMIT;")
    assert "SET lock_timeout = 500;" in output
    assert "SET statement_timeout = 60000;" in output


def test_an_interrupted_concurrent_index_build_is_rebuilt_on_rerun(scratch_url, newer_release):
    newer = newer_release(
        "with op.get_context().autocommit_block():\n"
        '        create_index_concurrently("ix_note_title_unique", "note", "title", unique=True)',
        'op.drop_index("ix_note_title_unique", table_name="note")',
    )
    release = Release(scratch_url, newer)
    release.upgrade(HEAD)
    execute(
        scratch_url,
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'x', now())",
    )
    for _ in range(2):
        execute(
            scratch_url,
            "INSERT INTO note (title, content, created_at, updated_at, user_id)"
            " VALUES ('same', '', now(), now(), 1)",
        )
    code, output = release.run("upgrade")
    assert code == 1 and "could not create unique index" in last_line(output)
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_note_title_unique'::regclass"
    assert query(scratch_url, valid) == [(False,)]
    execute(scratch_url, "DELETE FROM note WHERE id = 2")
    release.upgrade()
    assert query(scratch_url, valid) == [(True,)]
    assert version(scratch_url) == ["9001"]
