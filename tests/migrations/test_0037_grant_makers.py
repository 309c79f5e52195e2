"""Revision 0037 records what made each grant and why a paused one is paused, keeps the
grants as they were, and goes back."""

from sqlalchemy import func

from tests.migrations import user
from tests.migrations.revisions import ACCOUNTS, kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0037")
a_feed = rows_at(
    PARENT,
    user=user(),
    atom_feed={"user_id": 1, "token_hash": "f" * 64, "created_at": func.now()},
)
FEEDS = "SELECT id, user_id, token_hash, made_with_second_step, paused_at FROM atom_feed"
GRANTS = ("note_share", "webhook", "atom_feed", "access_token", "push_subscription")
MAKER = ("made_by_session", "made_by_token", "password_proven_at", "second_step_proven_at")


def test_0037_adds_makers_and_reasons_keeps_grants_and_goes_back(a_feed, alembic_runner, database):
    with kept(database, ACCOUNTS) as before, kept(database, FEEDS) as feeds:
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows(f"SELECT {', '.join(MAKER)}, paused_reason FROM atom_feed") == [
        dict.fromkeys((*MAKER, "paused_reason"))
    ]
    for table in GRANTS:
        assert set(MAKER) <= set(database.columns(table))
    assert "paused_reason" in database.columns("webhook")
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(ACCOUNTS) == before
    assert database.rows(FEEDS) == feeds
    for table in GRANTS:
        assert "made_by_session" not in database.columns(table)
    assert "paused_reason" not in database.columns("note_share")
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(FEEDS) == feeds
