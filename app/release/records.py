"""The record of applied revisions (`schema_revisions`), kept in step with alembic_version."""

import logging
import shutil
import subprocess
from functools import cache
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy import text

from app.build import build_commit
from app.release.freeze import script_checksum
from app.release.session import current_heads
from app.schema import COMPAT_TABLE, RollbackRefused, check_rollback

logger = logging.getLogger("memo.migrations")


# The columns this release writes; the first five since the record began, the last three
# since the release that validates the history (revision 0034 adds any that are missing).
RECORD_COLUMNS = frozenset(
    ("revision", "down_revision", "backward_compatible", "description", "applied_at")
    + ("checksum", "release", "note")
)


def record_columns(connection):
    """Return the record's columns: none before revision 0034 created it on a new database."""
    return set(
        connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = :table"
            ),
            {"table": COMPAT_TABLE},
        )
    )


class Recorder:
    """Alembic's on_version_apply: each revision's record, in the revision's own transaction.

    Revision 0034 creates the record, so on a new database the revisions before it run
    before it exists, and on one an older release left, before it has every column: what the
    record cannot hold yet is kept, and written in full in the transaction of the revision
    that completes it, after `backfill` (the release phase's, for what earlier runs left
    unrecorded). A revision whose record is written in part is written again then.
    """

    def __init__(self, backfill=None):
        self.backfill = backfill
        self.incomplete = []

    def __call__(self, ctx, step, heads, run_args):
        if ctx.as_sql or step.is_stamp:
            return
        if not step.is_upgrade:
            if record_columns(ctx.connection):
                ctx.connection.execute(
                    text(f"DELETE FROM {COMPAT_TABLE} WHERE revision = :revision"),
                    {"revision": step.up_revision_id},
                )
            return
        self.incomplete.append(step.up_revision)
        self.write(ctx.connection)

    def write(self, connection):
        """Write what is kept as far as the record can hold it (in full once it is complete)."""
        columns = record_columns(connection)
        complete = columns >= RECORD_COLUMNS
        if complete and self.backfill:
            self.backfill(connection)
            self.backfill = None
        if columns:
            for script in self.incomplete:
                write_record(connection, script, columns=columns)
        if complete:
            self.incomplete.clear()


def write_record(connection, script, note=None, columns=None):
    """Record `script` as applied now, on top of the parent it names, with its checksum.

    Into the columns the record has (`columns`, else read): an older release's lacks the
    checksum, release and note until revision 0034 adds them.
    """
    values = {
        "revision": script.revision,
        "down_revision": parent_of(script),
        "backward_compatible": bool(getattr(script.module, "backward_compatible", False)),
        "description": (script.doc or "").strip().splitlines()[0][:200],
        "checksum": script_checksum(script),
        "release": release_commit(),
        "note": note,
    }
    present = record_columns(connection) if columns is None else columns
    names = [name for name in values if name in present]
    updates = [f"{name} = EXCLUDED.{name}" for name in names if name != "revision"]
    connection.execute(
        text(
            f"INSERT INTO {COMPAT_TABLE} ({', '.join(names)})"
            f" VALUES ({', '.join(':' + name for name in names)})"
            f" ON CONFLICT (revision) DO UPDATE SET {', '.join(updates)}, applied_at = now()"
        ),
        {name: values[name] for name in names},
    )


def update_record(connection, revision, **values):
    """Set `values` in `revision`'s record, leaving out the columns the record lacks."""
    present = record_columns(connection)
    names = [name for name in values if name in present]
    if names:
        connection.execute(
            text(
                f"UPDATE {COMPAT_TABLE} SET {', '.join(f'{n} = :{n}' for n in names)}"
                " WHERE revision = :revision"
            ),
            {"revision": revision, **{name: values[name] for name in names}},
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
    """Return this release's commit: the platform's (app/build.py), else git's, else None."""
    if build_commit():
        return build_commit()
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
