"""Flask commands of our own, added to `flask` by create_app: storage, db-budget, seed-demo,
the worker, the job queue's and the release phase's extras, the restore drill.

Each command loads what it runs when it runs (the worker's runtime, the release package), so
the web, which creates the same app, never does.
"""

from app.commands.budget import db_budget
from app.commands.demo import seed_demo
from app.commands.drill import restore_drill
from app.commands.queue import jobs_cli, worker
from app.commands.release import release_cli
from app.commands.storage import storage_cli


def init_app(app):
    """Add the commands to the app's `flask` command line."""
    for command in (
        storage_cli,
        db_budget,
        seed_demo,
        worker,
        jobs_cli,
        release_cli,
        restore_drill,
    ):
        app.cli.add_command(command)
