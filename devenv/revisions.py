"""The migration revisions of this checkout, read by Alembic as `flask db` reads them."""

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def script_directory(folder=MIGRATIONS):
    """Return Alembic's view of `folder`/versions (it puts `folder` on sys.path)."""
    config = Config(Path(folder) / "alembic.ini")
    config.set_main_option("script_location", str(folder))
    return ScriptDirectory.from_config(config)


def head_revision():
    """Return this code's newest revision."""
    return script_directory().get_current_head()


def parent_revision(revision):
    """Return the revision that `revision` builds on."""
    return script_directory().get_revision(revision).down_revision
