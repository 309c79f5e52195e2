"""Revision 0001 creates users, sessions and notes on an empty database, and drops them."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import user


def test_0001_creates_users_sessions_and_notes_and_drops_them(alembic_runner, database):
    alembic_runner.migrate_up_to("0001")
    assert {"user", "login_session", "note"} <= database.tables()
    alembic_runner.insert_into("user", user())
    with pytest.raises(IntegrityError, match="uq_user_email_lower"):
        alembic_runner.insert_into("user", user(email="A@EXAMPLE.COM", nickname="other"))
    alembic_runner.migrate_down_to("base")
    assert database.tables() == {"alembic_version"}
    assert alembic_runner.current == "base"
