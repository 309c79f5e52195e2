"""Liveness and readiness probes for the platform's router and for operators."""

from functools import cache

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

bp = Blueprint("health", __name__)


@cache
def expected_heads():
    """Return the migration heads this release's code was written for."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@bp.get("/healthz")
def healthz():
    """Answer as long as the process serves requests; touches no database."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Answer 200 when the database answers and its schema is at this code's head."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SET LOCAL statement_timeout = 2000"))
            current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return {"status": "unavailable", "reason": f"database: {reason}"}, 503
    expected = expected_heads()
    if current != expected:
        have = ", ".join(sorted(current)) or "empty"
        want = ", ".join(sorted(expected))
        reason = f"schema is at {have}; this release expects {want}"
        return {"status": "unavailable", "reason": reason}, 503
    return {"status": "ready", "schema": sorted(current)}
