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


def is_release_phase_command(stock_upgrade):
    """Return whether the click command running is `stock_upgrade` (Flask-Migrate's
    `flask db upgrade`): the release phase is that command, never an upgrade made in-process
    (tests, the migrations' linter) nor `downgrade`, `current` or `check`."""
    context = click.get_current_context(silent=True)
    return context is not None and context.command is stock_upgrade


def init_app(app):
    """Set up Flask-Migrate for `app` (once), with `flask db upgrade` the release phase.

    Flask-Migrate's configure callback (public, documented) marks the Alembic configuration
    of that command: migrations/env.py reads `release_phase` and checks the record of applied
    revisions first. `flask db` stays Flask-Migrate's own group.
    """
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate  # only here: see the module's docstring
    from flask_migrate.cli import upgrade as stock_upgrade  # (as above)

    migrate = Migrate(app, db, compare_type=True, render_as_batch=False)

    @migrate.configure
    def mark_release_phase(config):
        config.attributes["release_phase"] = is_release_phase_command(stock_upgrade)
        return config
