"""Flask-Migrate, set up for the commands that need it: `flask db ...`, `flask release ...`.

The `flask` command line creates the app while click parses the command (a click context is
current); the tests load Flask-Migrate themselves. gunicorn does neither, so the web sets up
no Flask-Migrate and loads no Alembic (about 11 MB a worker; docs/performance.md).
"""

import sys

import click


def wanted():
    """Return whether this app is made for the `flask` command line or the tests: not the web."""
    return click.get_current_context(silent=True) is not None or "flask_migrate" in sys.modules


def init_app(app, db):
    """Set up Flask-Migrate for `app`, with the release phase's flag (app/commands/release.py)."""
    from flask_migrate import Migrate  # only here: see the module's docstring

    from app.commands.release import mark_release_phase  # (as above)

    migrate = Migrate(app, db, compare_type=True, render_as_batch=False)
    migrate.configure(mark_release_phase)
