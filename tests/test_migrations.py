"""The schema comes from the migrations, which run up, down and up again from the CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

ROOT = Path(__file__).resolve().parent.parent
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


def test_models_match_the_migrations(flask_db):
    flask_db("upgrade")
    assert "No new upgrade operations detected" in flask_db("check")


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
    assert scratch_schema.tables() == {"alembic_version"}
    assert scratch_schema.current() is None
