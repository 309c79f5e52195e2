"""Flask-Migrate, set up for the commands that need it: `flask db ...`, `flask release ...`.

Every `flask` command line loads Flask-Migrate (its `db` group is a `flask.commands` plugin)
before it creates the app, and so do the tests; gunicorn never does. So the web sets up no
Flask-Migrate and loads no Alembic (about 11 MB a worker; docs/performance.md).
"""

import sys


def wanted():
    """Return whether something in this process has loaded Flask-Migrate (never the web)."""
    return "flask_migrate" in sys.modules


def init_app(app, db):
    """Set up Flask-Migrate for `app`, with the release phase's flag (app/commands/release.py)."""
    from flask_migrate import Migrate  # only here: see the module's docstring

    from app.commands.release import mark_release_phase  # (as above)

    migrate = Migrate(app, db, compare_type=True, render_as_batch=False)
    migrate.configure(mark_release_phase)
