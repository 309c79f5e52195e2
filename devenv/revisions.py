"""The migration revisions: this checkout's, read by Alembic as `flask db` reads them, and a
commit's, read from git (the one reader of a revision file's ids)."""

import ast
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSIONS = "migrations/versions"


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


def ids(source):
    """Return (revision, down_revision) as a revision file's source names them."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("revision", "down_revision"):
                found[name] = ast.literal_eval(node.value)
    return found.get("revision"), found.get("down_revision")


def revisions_at(ref, git):
    """Return {path: (revision, down_revision)} of the revision files in `ref`'s tree, read
    with `git(*args)`, which returns git's output in the checkout meant."""
    paths = git("ls-tree", "--name-only", f"{ref}:{VERSIONS}").split()
    return {
        f"{VERSIONS}/{name}": ids(git("show", f"{ref}:{VERSIONS}/{name}"))
        for name in paths
        if name.endswith(".py")
    }
