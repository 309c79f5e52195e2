"""The schema comes from the migrations, which run up, down and up again from the CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from devenv import ROOT

FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def flask_db(postgres):
    """Run `flask db ...` as the release phase would, against a fresh scratch database."""
    environ = {
        **os.environ,
        "APP_SETTINGS": "config.TestingConfig",
        "TEST_DATABASE_URL": postgres.create_scratch_database(),
    }

    def run(*args):
        result = subprocess.run(
            [FLASK, "--app", "wsgi", "db", *args],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    return run


def test_upgrade_downgrade_to_base_and_upgrade_again(flask_db):
    flask_db("upgrade")
    assert "(head)" in flask_db("current")
    flask_db("downgrade", "base")
    assert "(head)" not in flask_db("current")
    flask_db("upgrade")
    assert "(head)" in flask_db("current")


def test_app_code_never_creates_tables_itself():
    for path in (ROOT / "app").rglob("*.py"):
        assert "create_all(" not in path.read_text(), path


def test_0001_creates_users_sessions_and_notes_and_drops_them(scratch_schema):
    scratch_schema.upgrade("0001")
    assert {"user", "login_session", "note"} <= scratch_schema.tables()
    scratch_schema.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'x', now())"
    )
    duplicate = (
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('A@EXAMPLE.COM', 'other', 'x', now())"
    )
    with pytest.raises(IntegrityError, match="uq_user_email_lower"):
        scratch_schema.execute(duplicate)
    scratch_schema.downgrade("base")
    assert scratch_schema.tables() == {"alembic_version", "schema_revisions"}
    assert scratch_schema.current() is None


def test_0003_adds_completed_and_keeps_every_note(scratch_schema):
    scratch_schema.upgrade("0002")
    scratch_schema.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'argon-hash', now())"
    )
    for number in range(3):
        scratch_schema.execute(
            "INSERT INTO note (title, content, created_at, updated_at, user_id)"
            " VALUES (:title, 'body', now(), now(), 1)",
            title=f"note {number}",
        )
    before = scratch_schema.rows("SELECT id, title, content, created_at FROM note ORDER BY id")

    scratch_schema.upgrade("0003")
    after = scratch_schema.rows(
        "SELECT id, title, content, created_at, completed FROM note ORDER BY id"
    )
    assert [{k: v for k, v in row.items() if k != "completed"} for row in after] == before
    assert {row["completed"] for row in after} == {False}
    # The previous release, still serving, inserts notes without naming the column.
    scratch_schema.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " VALUES ('from the old release', '', now(), now(), 1)"
    )
    nullable = scratch_schema.rows(
        "SELECT is_nullable FROM information_schema.columns"
        " WHERE table_name = 'note' AND column_name = 'completed'"
    )
    assert nullable == [{"is_nullable": "NO"}]
    leftover = scratch_schema.rows(
        "SELECT conname FROM pg_constraint WHERE conname = 'ck_note_completed_not_null'"
    )
    assert leftover == []

    scratch_schema.downgrade("0002")
    assert "completed" not in scratch_schema.columns("note")
    titles = [row["title"] for row in scratch_schema.rows("SELECT title FROM note ORDER BY id")]
    assert titles == ["note 0", "note 1", "note 2", "from the old release"]
    assert scratch_schema.rows('SELECT password_hash FROM "user"') == [
        {"password_hash": "argon-hash"}
    ]


def test_0003_finishes_the_job_after_a_run_that_failed_part_way(scratch_schema):
    scratch_schema.upgrade("0002")
    scratch_schema.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'x', now())"
    )
    scratch_schema.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " VALUES ('old', '', now(), now(), 1)"
    )
    # What a first run leaves when it dies after step 4 (the NOT VALID check).
    scratch_schema.execute("ALTER TABLE note ADD COLUMN completed boolean")
    scratch_schema.execute("ALTER TABLE note ALTER COLUMN completed SET DEFAULT false")
    scratch_schema.execute(
        "ALTER TABLE note ADD CONSTRAINT ck_note_completed_not_null"
        " CHECK (completed IS NOT NULL) NOT VALID"
    )
    scratch_schema.upgrade("0003")
    assert scratch_schema.current() == "0003"
    assert scratch_schema.rows("SELECT completed FROM note") == [{"completed": False}]
    leftover = "SELECT conname FROM pg_constraint WHERE conname = 'ck_note_completed_not_null'"
    assert scratch_schema.rows(leftover) == []
