"""The record of applied revisions (`schema_revisions`), kept in step with alembic_version."""

import logging
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy import text

from app.release.freeze import script_checksum
from app.release.session import current_heads
from app.schema import COMPAT_TABLE, RollbackRefused, check_rollback

logger = logging.getLogger("memo.migrations")


def ensure_compatibility_record(connection):
    """Create the record of applied revisions, or add the columns this release writes."""
    connection.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {COMPAT_TABLE} ("
            " revision varchar(32) PRIMARY KEY,"
            " down_revision varchar(32),"
            " backward_compatible boolean NOT NULL,"
            " description text NOT NULL DEFAULT '',"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    )
    # Added by the release that validates the history (issue 19); older releases
    # write rows without them, which the validation reads as "not known". Checked first:
    # ALTER TABLE takes its lock even when every column exists, and /readyz reads the table.
    present = connection.scalar(
        text(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = :table"
            " AND column_name IN ('checksum', 'release', 'note')"
        ),
        {"table": COMPAT_TABLE},
    )
    if present < 3:
        connection.execute(
            text(
                f"ALTER TABLE {COMPAT_TABLE} ADD COLUMN IF NOT EXISTS checksum varchar(64),"
                " ADD COLUMN IF NOT EXISTS release varchar(64),"
                " ADD COLUMN IF NOT EXISTS note text"
            )
        )
    connection.commit()


def record_revision(ctx, step, heads, run_args):
    """Write or delete a revision's record, in the revision's own transaction."""
    if ctx.as_sql or step.is_stamp:
        return
    if not step.is_upgrade:
        ctx.connection.execute(
            text(f"DELETE FROM {COMPAT_TABLE} WHERE revision = :revision"),
            {"revision": step.up_revision_id},
        )
        return
    write_record(ctx.connection, step.up_revision)


def write_record(connection, script, note=None):
    """Record `script` as applied now, on top of the parent it names, with its checksum."""
    connection.execute(
        text(
            f"INSERT INTO {COMPAT_TABLE} (revision, down_revision, backward_compatible,"
            " description, checksum, release, note) VALUES (:revision, :down, :compatible,"
            " :description, :checksum, :release, :note)"
            " ON CONFLICT (revision) DO UPDATE SET down_revision = EXCLUDED.down_revision,"
            " backward_compatible = EXCLUDED.backward_compatible, applied_at = now(),"
            " checksum = EXCLUDED.checksum, release = EXCLUDED.release, note = EXCLUDED.note"
        ),
        {
            "revision": script.revision,
            "down": parent_of(script),
            "compatible": bool(getattr(script.module, "backward_compatible", False)),
            "description": (script.doc or "").strip().splitlines()[0][:200],
            "checksum": script_checksum(script),
            "release": release_commit(),
            "note": note,
        },
    )


def parent_of(script):
    """Return a script's down_revision as the record keeps it (merge parents comma-joined)."""
    down = script.down_revision
    if isinstance(down, tuple | list):
        return ",".join(sorted(down))
    return down


def recorded_revisions(connection):
    """Return {revision: row as a dict} from the record, whichever columns it has so far."""
    if not connection.scalar(text(f"SELECT to_regclass('{COMPAT_TABLE}') IS NOT NULL")):
        return {}
    rows = connection.scalars(text(f"SELECT to_jsonb(record) FROM {COMPAT_TABLE} record"))
    return {row["revision"]: row for row in rows}


def accept_newer_schema(connection, scripts):
    """Return whether the database is ahead of this release and may stay so; refuse if not."""
    known = {script.revision for script in scripts.walk_revisions()}
    unknown = current_heads(connection) - known
    if not unknown:
        return False
    try:
        explanation = check_rollback(connection, unknown, set(scripts.get_heads()))
    except RollbackRefused as error:
        raise CommandError(str(error)) from None
    logger.warning("Nothing to do: %s, so the schema is left as it is", explanation)
    return True


@cache
def release_commit():
    """Return this release's commit: the platform's build variables, else git, else None."""
    for name in ("HEROKU_BUILD_COMMIT", "HEROKU_SLUG_COMMIT", "SOURCE_VERSION"):
        if os.environ.get(name):
            return os.environ[name]
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603  (a fixed command)
            [git, "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None
