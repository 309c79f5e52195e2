"""Liveness and readiness probes for the platform's router and for operators.

/readyz names only what failed ("database" or "schema"); the details (addresses,
revisions, the driver's message) go to the log, not to whoever asks.
"""

import logging

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.schema import RollbackRefused, check_rollback, code_heads, code_revisions, database_heads

bp = Blueprint("health", __name__)
logger = logging.getLogger("memo.health")


def unavailable(failed, detail):
    """Log why the app is not ready, and answer 503 naming only what failed."""
    logger.warning("not ready: %s: %s", failed, detail)
    return {"status": "unavailable", "reason": failed}, 503


def expected_heads():
    """Return the migration heads this release's code was written for."""
    return code_heads()


def known_revisions():
    """Return every revision this release has."""
    return set(code_revisions())


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
            current = database_heads(connection)
    except SQLAlchemyError as error:
        return unavailable("database", str(getattr(error, "orig", None) or error).strip())
    return schema_readiness(current)


def schema_readiness(current):
    """Answer for a database at `current`: ready at our head, or ahead but compatible."""
    expected, known = expected_heads(), known_revisions()
    if current == expected:
        return {"status": "ready", "schema": sorted(current)}
    unknown = current - known
    if unknown and not current & known:
        try:
            with db.engine.connect() as connection:
                note = check_rollback(connection, unknown, expected)
        except (RollbackRefused, SQLAlchemyError) as error:
            return unavailable("schema", str(error))
        return {"status": "ready", "schema": sorted(current), "note": note}
    have = ", ".join(sorted(current)) or "empty"
    return unavailable("schema", f"at {have}; this release expects {', '.join(sorted(expected))}")
