"""pytest-alembic's fixtures on a scratch database, and the `database` its tests read.

The scratch database starts empty. A test marked `@pytest.mark.start_at(revision)` starts on
a copy of the template database at that revision instead (tests/databases.py, `Templates`:
each revision's upgrade runs once per test process), so its
`alembic_runner.migrate_up_to(revision)` finds nothing left to run. The mark only saves time:
without it, the runner runs the chain up to the same revision.
"""

import pytest

from app.extensions import db
from tests.databases import ScratchSchema
from tests.migrations import Database
from tests.note_writers import set_up_directly


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "start_at(revision): start on a copy of the template database at `revision`"
    )


@pytest.fixture
def scratch_schema(app, postgres):
    """A fresh, empty database and an app on it (tests/databases.py, ScratchSchema)."""
    schema = ScratchSchema(postgres.create_scratch_database())
    yield schema
    schema.dispose()


@pytest.fixture
def alembic_config(scratch_schema):
    """The Flask-Migrate configuration, inside the scratch app's context (env.py reads it)."""
    with scratch_schema.app.app_context():
        yield scratch_schema.app.extensions["migrate"].migrate.get_config()


@pytest.fixture
def alembic_engine(request, postgres, scratch_schema, alembic_config):
    """The scratch database's engine, the one env.py migrates: empty, or a copy of the
    template at the revision of the test's `start_at` mark."""
    mark = request.node.get_closest_marker("start_at")
    if mark:
        scratch_schema.dispose()  # no connection may stay on the database replaced
        postgres.templates.copy_into(mark.args[0], scratch_schema.url)
    with scratch_schema.app.app_context():
        yield db.engine


@pytest.fixture
def database(alembic_engine):
    """The scratch database in plain SQL (tests/migrations/__init__.py, Database)."""
    return Database(alembic_engine)


@pytest.fixture(autouse=True)
def older_rows():
    """The tests write rows of older schemas in plain SQL, as no writer of this release can."""
    with set_up_directly():
        yield
