"""Flask-Migrate, set up for what migrates: Flask's command line (`flask db ...`,
`flask release ...`), and code that runs revisions in-process (the tests, the migrations'
linter), which calls init_app itself.

gunicorn loads the app without Flask's command line, so the web sets up no Flask-Migrate and
loads no Alembic (about 11 MB a worker; docs/performance.md).
"""

import click
from flask.cli import ScriptInfo

from app.extensions import db


def loaded_by_the_command_line():
    """Return whether Flask's command line (`flask ...`) is loading the app: its loader,
    ScriptInfo, is the click context's object."""
    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None


def init_app(app):
    """Set up Flask-Migrate for `app` (once), with `flask db upgrade` the release phase.

    Flask-Migrate 4.1 adds its `db` group to `app.cli`, which `flask` searches after its own
    and its plugins' commands (flask.cli.FlaskGroup.get_command); the release's group is
    added after it, in its place. tests/test_release_history.py resolves `flask db upgrade`
    as `flask` does, so a Flask-Migrate that made `db` a plugin (found first) would fail it.
    """
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate  # only here: see the module's docstring

    from app.commands.release import db_cli  # (as above)

    Migrate(app, db, compare_type=True, render_as_batch=False)
    app.cli.add_command(db_cli())
