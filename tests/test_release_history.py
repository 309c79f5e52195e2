"""The record of applied revisions, and the release phase's check of it before it migrates.

Each test runs the real `flask db` in a subprocess against a scratch database at this
code's head, then edits the record as a relinked history, an edited revision or an
older release would have left it.
"""

from pathlib import Path

import click
import flask_migrate.cli
import pytest
from flask.cli import FlaskGroup, ScriptInfo

from app import create_app
from app.extensions import db
from app.release.freeze import revision_checksum
from config import database_uri
from devenv.flaskdb import flask_db, flask_release
from devenv.revisions import script_directory
from devenv.schema import schema_dump
from devenv.services import execute, query

# The record as 2122606 left it on a database created at that commit: 0010 ran on top of
# 0007, so 0008 and 0009 never ran (their objects are still here, so the test can tell
# that the refusal changed nothing).
AS_2122606_LEFT_IT = (
    "UPDATE schema_revisions SET down_revision = '0007' WHERE revision = '0010'",
    "DELETE FROM schema_revisions WHERE revision IN ('0008', '0009')",
)


def record(url):
    """Return the record's rows: (revision, down_revision, checksum, applied_at, note)."""
    return query(
        url,
        "SELECT revision, down_revision, checksum, applied_at, note"
        " FROM schema_revisions ORDER BY revision",
    )


@pytest.fixture
def upgraded(postgres):
    """A scratch database brought to this code's head by the release phase."""
    url = postgres.create_scratch_database()
    code, output = flask_db(url, "upgrade")
    assert code == 0, output
    return url


def test_each_applied_revision_is_recorded_with_its_parent_checksum_and_time(upgraded):
    scripts = script_directory()
    rows = record(upgraded)
    assert [row[0] for row in rows] == sorted(s.revision for s in scripts.walk_revisions())
    for revision, down_revision, checksum, applied_at, note in rows:
        script = scripts.get_revision(revision)
        assert down_revision == script.down_revision
        assert checksum == revision_checksum(Path(script.path).read_text())
        assert applied_at is not None
        assert note is None


def test_a_relinked_history_is_refused_before_anything_changes(upgraded):
    execute(upgraded, *AS_2122606_LEFT_IT)
    before = schema_dump(upgraded), record(upgraded)
    code, output = flask_db(upgraded, "upgrade")
    assert code == 1
    assert "revision 0010 ran on top of 0007" in output
    assert "this release's 0010 revises 0009" in output
    assert "migrations/versions/0010_attachments.py" in output
    assert "Alembic would take 0008, 0009 as applied and skip them" in output
    assert "`flask release apply-skipped`" in output
    assert (schema_dump(upgraded), record(upgraded)) == before
    code, output = flask_release(upgraded, "validate")
    assert code == 1
    assert "revision 0010 ran on top of 0007" in output


def test_only_the_release_phase_checks_the_history(upgraded):
    execute(upgraded, *AS_2122606_LEFT_IT)
    code, output = flask_db(upgraded, "current")
    assert code == 0 and "disagrees" not in output, output
    assert flask_db(upgraded, "upgrade")[0] == 1


def test_flask_db_is_flask_migrates_own_group(app):
    """`flask` looks a command up among its own and its plugins' first, then the app's
    (FlaskGroup.get_command): `db` is Flask-Migrate's group, its commands its own."""
    command_line = FlaskGroup()
    loader = ScriptInfo(create_app=lambda: create_app("config.TestingConfig"))
    with click.Context(command_line, obj=loader) as context:
        assert command_line.get_command(context, "db") is flask_migrate.cli.db


def test_only_flask_db_upgrade_marks_its_configuration_the_release_phase(app):
    migrate = app.extensions["migrate"].migrate
    with app.app_context():
        assert migrate.get_config().attributes["release_phase"] is False  # in-process
        for name, command in flask_migrate.cli.db.commands.items():
            with click.Context(command):
                marked = migrate.get_config().attributes["release_phase"]
            assert marked is (name == "upgrade"), name


def test_a_revision_whose_code_changed_warns_and_under_strict_is_refused(upgraded):
    execute(
        upgraded, "UPDATE schema_revisions SET checksum = repeat('0', 64) WHERE revision = '0005'"
    )
    code, output = flask_db(upgraded, "upgrade")
    assert code == 0, output
    assert "revision 0005's code changed since it ran" in output
    code, output = flask_db(upgraded, "upgrade", MIGRATION_STRICT="1")
    assert code == 1
    assert "revision 0005's code changed since it ran" in output
    assert "--accept-checksums" in output
    code, output = flask_release(upgraded, "validate", "--accept-checksums", MIGRATION_STRICT="1")
    assert code == 0, output
    assert "accepted the checksums of 0005" in output
    code, output = flask_db(upgraded, "upgrade", MIGRATION_STRICT="1")
    assert code == 0, output


def test_an_older_releases_record_is_backfilled_saying_what_was_assumed(upgraded):
    # A database at 0033 (the last revision before the record was a revision's) where
    # 0001-0003 ran before the record existed, and the rest were recorded by a release that
    # kept neither checksums nor notes: 0034 adds the columns, then the backfill fills them.
    code, output = flask_db(upgraded, "downgrade", "0033")
    assert code == 0, output
    execute(
        upgraded,
        "DELETE FROM schema_revisions WHERE revision <= '0003'",
        "ALTER TABLE schema_revisions DROP COLUMN checksum, DROP COLUMN release, DROP COLUMN note",
    )
    code, output = flask_db(upgraded, "upgrade")
    assert code == 0, output
    assert "assumed 0001, 0002, 0003 ran, as this release's chain says" in output
    chain = [script.revision for script in reversed(list(script_directory().walk_revisions()))]
    assert f"checksums of {', '.join(chain[3 : chain.index('0033') + 1])} taken" in output
    rows = {row[0]: row for row in record(upgraded)}
    assert rows["0001"][4] == "backfilled: ran before the record existed"
    assert rows["0004"][4].startswith("checksum backfilled by release")
    assert all(row[2] for row in rows.values())
    code, output = flask_release(upgraded, "validate")
    assert code == 0, output


def test_readyz_reads_only_the_schema_version_and_leaves_the_history_to_the_release(upgraded):
    # The web serves the schema it has; judging the history is the release phase's job, and a
    # probe that read every revision's checksum would do it again every few seconds.
    app = create_app("config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": database_uri(upgraded)})
    client = app.test_client()
    execute(upgraded, *AS_2122606_LEFT_IT)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    code, output = flask_db(upgraded, "upgrade")
    assert code == 1
    assert "revision 0010 ran on top of 0007" in output
    with app.app_context():
        db.engine.dispose()
