"""Flask commands of our own, added to `flask` by create_app: storage, db-budget, the worker,
the job queue's and the release phase's extras, the restore drill (seed-demo is the notes
feature's own, app/features/notes/demo.py: it writes notes through their writer).

Each command loads what it runs when it runs (the worker's runtime, the release package), so
the web, which creates the same app, never does.
"""

from app.commands.budget import db_budget
from app.commands.drill import restore_drill
from app.commands.queue import jobs_cli, worker
from app.commands.release import release_cli
from app.commands.storage import storage_cli


def init_app(app):
    """Add the commands to the app's `flask` command line."""
    for command in (storage_cli, db_budget, worker, jobs_cli, release_cli, restore_drill):
        app.cli.add_command(command)
