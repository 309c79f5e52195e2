"""This round's damage: databases made by main's own commits while revisions were relinked.

Each commit of main's first-parent line that added a revision in the last round, and can
run its own release phase, makes a database with its own `flask db upgrade` (run with this
checkout's virtualenv, through the commit's app factory: its migrations need nothing newer).
This release's release phase must then either refuse it, naming what was skipped and the
way out, after which `flask release apply-skipped` and the release phase bring it to the same
schema as a fresh upgrade (`pg_dump --schema-only`); or upgrade it to that schema at once.
fc10c9e is left out: its 0007 imports `safe_ddl`, a module missing from its own tree, so
its release phase never ran anywhere.
"""

import pytest

from devenv.flaskdb import flask_db, flask_release
from devenv.history import HistoryUnavailable, check_history_is_complete, git
from devenv.schema import schema_dump

# An old release's migrations, loaded through its app factory: its wsgi.py may import what
# this virtualenv no longer has (254c475's serves through a2wsgi, which #20 removed).
OLD_APP = "app:create_app()"
# commit: (the revision that ran on another parent, that parent, the revisions it skips)
DAMAGED = {
    "2bf62a7": ("0011", "0005", "0006, 0007, 0008, 0009, 0010"),
    "2122606": ("0010", "0007", "0008, 0009"),
    "254c475": None,  # its chain is this one: nothing skipped
}


@pytest.fixture(scope="module")
def fresh_schema(postgres):
    """The schema a fresh `flask db upgrade` of this code makes."""
    url = postgres.create_scratch_database()
    code, output = flask_db(url, "upgrade")
    assert code == 0, output
    return schema_dump(url)


@pytest.fixture
def old_release(tmp_path):
    """Check a commit of main out in a worktree; remove it afterwards."""
    folders = []

    def checkout(commit):
        try:
            check_history_is_complete()
            git("cat-file", "-e", f"{commit}^{{commit}}")
        except HistoryUnavailable as error:
            pytest.skip(f"main's commit {commit} is not in this clone's history: {error}")
        folder = tmp_path / commit
        git("worktree", "add", "--detach", str(folder), commit)
        folders.append(folder)
        return folder

    yield checkout
    for folder in folders:
        git("worktree", "remove", "--force", str(folder))


@pytest.mark.parametrize("commit", DAMAGED)
def test_a_database_made_by_main_during_the_relinks_is_refused_then_repaired(
    commit, postgres, old_release, fresh_schema
):
    url = postgres.create_scratch_database()
    code, output = flask_db(url, "upgrade", cwd=old_release(commit), app=OLD_APP)
    assert code == 0, output
    code, output = flask_db(url, "upgrade")
    if DAMAGED[commit] is None:
        assert code == 0, output
        assert schema_dump(url) == fresh_schema
        return
    revision, ran_on, skipped = DAMAGED[commit]
    assert code == 1, output
    assert f"revision {revision} ran on top of {ran_on}" in output
    assert f"Alembic would take {skipped} as applied and skip them" in output
    assert "Nothing was changed" in output
    assert "`flask release apply-skipped`" in output
    assert schema_dump(url) != fresh_schema
    code, output = flask_release(url, "apply-skipped")
    assert code == 0, output
    code, output = flask_db(url, "upgrade")
    assert code == 0, output
    assert schema_dump(url) == fresh_schema
    code, output = flask_release(url, "validate")
    assert code == 0, output
