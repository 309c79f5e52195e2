"""`flask restore-drill`: a backup of the test database comes back whole, and broken backups
(cut short, a table missing, an object gone, a stale schema) fail it, each saying which.

CI runs the drill here, on a fresh dump of the suite's own database.
"""

import pytest
from sqlalchemy import select, update

from app import objects, pgtools
from app.extensions import db
from app.models import Attachment, User
from devenv import services
from devenv.services import stored_keys
from tests.attaching import PDF
from tests.databases import HEAD, run_sql

WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L"


def drill(runner, *args):
    """Run the drill; return (exit code, what it printed, its error line)."""
    result = runner.invoke(args=["restore-drill", *args])
    return result.exit_code, result.stdout, result.stderr.strip()


@pytest.fixture
def seeded(app, ann, object_store):
    """ann's note with an attachment and a profile photo, each in the bucket."""
    assert ann.attach(1, PDF, "plan.pdf").status_code == 302  # back to the note
    with app.app_context():
        user = db.session.scalar(select(User))
        url = objects.put_photo(user.id, WEBP, "image/webp", "webp")
        db.session.execute(update(User).where(User.id == user.id).values(image_url=url))
        db.session.commit()
        keys = [db.session.scalar(select(Attachment.key)), objects.key_for_url(url)]
    assert set(keys) <= stored_keys(object_store)
    return keys


def dump_file(app, path, *options):
    """Write a pg_dump (custom format) of the test database to `path`, with `options`."""
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    target, environment = pgtools.libpq_target(url)
    tools = pgtools.find_tools(16)
    pgtools.run(
        tools, "pg_dump", ["--format=custom", f"--file={path}", *options, target], environment, 120
    )
    return path


PUBLIC_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


def drill_databases(postgres):
    return postgres.query("SELECT datname FROM pg_database WHERE datname LIKE 'memo_drill_%%'")


def test_the_drill_passes_on_a_fresh_dump_and_reports_what_it_checked(runner, postgres, seeded):
    code, printed, error = drill(runner)
    assert (code, error) == (0, "")
    assert f"schema: at head {HEAD}" in printed
    assert "as in the source" in printed
    assert "objects: 2 sampled attachments and photos, all in the bucket" in printed
    assert "recovery point: 20" in printed and "restore: " in printed
    assert printed.strip().endswith("restore drill passed")
    assert drill_databases(postgres) == []  # the scratch database is gone


def test_an_earlier_dump_passes_and_the_same_dump_cut_short_fails_as_unreadable(
    app, runner, seeded, tmp_path
):
    whole = dump_file(app, tmp_path / "whole.dump")
    code, printed, _ = drill(runner, "--dump", str(whole))
    assert code == 0
    assert "rows: not compared" in printed  # the source may have moved on since
    cut = tmp_path / "cut.dump"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    code, _, error = drill(runner, "--dump", str(cut))
    assert code == 1
    assert error == (
        "Error: restore drill failed: the backup cannot be read: "
        "pg_restore: error: could not read from input file: end of file"
    )


def test_a_backup_missing_a_table_fails_the_drill_naming_it(app, runner, seeded, tmp_path):
    dump = dump_file(app, tmp_path / "partial.dump", "--exclude-table=note")
    code, _, error = drill(runner, "--dump", str(dump))
    assert code == 1
    assert error == (
        "Error: restore drill failed: the restored database lacks table(s): note"
        f" (its schema is at revision {HEAD})"
    )


def test_an_object_missing_from_the_bucket_fails_the_drill_naming_it(
    runner, postgres, object_store, seeded
):
    attachment_key, _ = seeded
    object_store.client().delete_object(Bucket=object_store.bucket, Key=attachment_key)
    code, _, error = drill(runner)
    assert code == 1
    assert error == (
        "Error: restore drill failed: 1 of 2 sampled objects missing from the bucket: "
        f"{attachment_key}"
    )
    assert drill_databases(postgres) == []  # dropped after a failure too


def test_a_backup_behind_this_release_fails_the_drill(app, runner, seeded):
    run_sql(app, "UPDATE alembic_version SET version_num = 'behind'")
    try:
        code, _, error = drill(runner)
    finally:
        run_sql(app, "UPDATE alembic_version SET version_num = :head", head=HEAD)
    assert code == 1
    assert error == (
        "Error: restore drill failed: the restored schema is at revision behind, "
        f"not this release's head {HEAD}"
    )


def test_the_drill_restores_into_an_empty_database_it_is_given_and_empties_it(
    runner, postgres, seeded
):
    into = postgres.create_scratch_database()
    code, printed, error = drill(runner, "--into", into)
    assert (code, error) == (0, "")
    assert "restore drill passed" in printed
    assert services.query(into, PUBLIC_TABLES) == []


def test_the_drill_never_restores_into_the_apps_own_database_or_a_full_one(
    runner, postgres, seeded
):
    code, _, error = drill(runner, "--into", postgres.main_url)
    assert code == 1 and "--into names the app's own database" in error
    full = postgres.create_scratch_database()
    services.execute(full, "CREATE TABLE kept (id int)")
    code, _, error = drill(runner, "--into", full)
    assert code == 1 and "is not empty" in error
    assert services.query(full, PUBLIC_TABLES) == [("kept",)]  # what it held is left alone


def test_a_database_that_does_not_answer_fails_the_drill_in_one_line(runner, postgres):
    # postgres://, as the platform hands out a second database's URL.
    code, _, error = drill(runner, "--into", "postgres://nobody@127.0.0.1:1/none")
    assert code == 1
    assert error.startswith("Error: restore drill failed: a database did not answer: ")
    assert "\n" not in error


def test_client_programs_older_than_the_server_are_refused_with_the_way_out(runner):
    # Debian 12's own pg_dump is PostgreSQL 15's; the suite's server is 16.
    code, _, error = drill(runner, "--bin-dir", "/usr/lib/postgresql/15/bin")
    assert code == 1
    assert "no pg_dump and pg_restore of PostgreSQL 16 or newer found" in error
    code, _, error = drill(runner, "--bin-dir", "/nonexistent")
    assert code == 1
    assert "no pg_dump and pg_restore of PostgreSQL 16 or newer found" in error
    assert "--bin-dir" in error
