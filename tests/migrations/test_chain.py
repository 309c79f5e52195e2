"""The whole chain of revisions: pytest-alembic's built-in checks, and `flask db` itself.

Single head, upgrade from base to head, models that match the migrations (no autogenerate
diff), every revision's downgrade undoing its upgrade, all on an empty scratch database; then
the chain up, down to base and up again from the CLI, as the release phase runs it.
"""

import pytest
from pytest_alembic.tests import (  # noqa: F401  (collected as tests of this module)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from devenv import ROOT, flaskdb
from devenv.revisions import parent_revision


def test_each_revision_builds_on_the_one_before_it_in_the_runners_history(alembic_runner):
    # So alembic_runner's steps (migrate_up_before, migrate_down_one) go to parent_revision.
    history = alembic_runner.history
    for revision in history.revisions[1:-1]:  # between "base" and "heads"
        assert (parent_revision(revision) or "base") == history.previous_revision(revision)


@pytest.fixture
def flask_db(postgres):
    """Run `flask db ...` as the release phase would, against a fresh scratch database."""
    url = postgres.create_scratch_database()
    return lambda *args: flaskdb.flask_db(url, *args, check=True)[1]


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
