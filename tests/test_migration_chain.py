"""pytest-alembic's built-in checks of the revision chain, on a scratch database.

Single head, upgrade from base to head, models that match the migrations (no
autogenerate diff), and every revision's downgrade undoing its upgrade.
"""

import pytest
from pytest_alembic.tests import (  # noqa: F401  (collected as tests of this module)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from app.extensions import db


@pytest.fixture
def alembic_config(scratch_schema):
    """The Flask-Migrate configuration, inside the scratch app's context."""
    with scratch_schema.app.app_context():
        yield scratch_schema.app.extensions["migrate"].migrate.get_config()


@pytest.fixture
def alembic_engine(scratch_schema, alembic_config):
    """The scratch database's engine, the one env.py migrates."""
    with scratch_schema.app.app_context():
        yield db.engine
