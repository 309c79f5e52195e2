"""The release phase: `flask db upgrade` against a database the previous release is serving.

migrations/env.py wires Alembic to the pieces here:
- migration_session(): the session's lock and statement timeouts, and the advisory lock
  that makes this run the only upgrader;
- run_with_retries(): a revision that cannot get its lock in time is retried with
  jittered backoff, then fails with one line naming it and its cause;
- the record of applied revisions, table `schema_revisions`: each one's parent, checksum,
  time, release and `backward_compatible` mark; check_rollback() reads the marks when a
  platform rollback runs an older release against a newer schema;
- check_history() / validate_history(): before migrating, the record is compared with this
  code's chain, and a history that disagrees (a relinked revision, skipped ancestors) is
  refused; apply_skipped() runs what was skipped (`flask db apply-skipped`);
- database_heads(): the schema version, as the release phase and /readyz read it;
- frozen_source(): a revision's code without docstrings, which the checksum and the
  freeze test (tests/test_revision_freeze.py) compare.

The DDL helpers that revisions call live in migrations/ddl.py; the names below are
re-exported for the revisions that shipped importing them from here (frozen, see
docs/releases.md).
"""

import ast
import hashlib
import logging
import os
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import tenacity
from alembic.operations import Operations
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from migrations.ddl import (  # noqa: F401  (re-exported for shipped revisions)
    constraint_exists,
    create_index_concurrently,
    index_is_valid,
)

logger = logging.getLogger("memo.migrations")

ADVISORY_LOCK_KEY = 7_314_420_552  # any constant; shared by every release of this app
COMPAT_TABLE = "schema_revisions"
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
RETRYABLE_SQLSTATES = {LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED}
MAX_RETRY_DELAY_SECONDS = 60


def first_line(error):
    """Return the first line of a database error, without SQLAlchemy's boilerplate."""
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def sqlstate(error):
    """Return the PostgreSQL SQLSTATE of a DBAPI error, or None."""
    return getattr(getattr(error, "orig", None), "pgcode", None)


def session_settings(settings):
    """Return the SET statements every migration session starts with."""
    return [
        f"SET lock_timeout = {int(settings['MIGRATION_LOCK_TIMEOUT_MS'])}",
        f"SET statement_timeout = {int(settings['MIGRATION_STATEMENT_TIMEOUT_MS'])}",
    ]


@contextmanager
def migration_session(connection, settings):
    """Set the session's timeouts and become the only upgrader; undo both on the way out."""
    for statement in session_settings(settings):
        connection.execute(text(statement))
    connection.commit()
    wait_for_advisory_lock(connection, settings["MIGRATION_LOCK_WAIT_SECONDS"])
    try:
        yield connection
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.execute(text("RESET lock_timeout"))
        connection.execute(text("RESET statement_timeout"))
        connection.commit()


def wait_for_advisory_lock(connection, patience):
    """Poll a try-lock, ending each try's transaction, for up to `patience` seconds.

    A blocking pg_advisory_lock would keep a snapshot open while it waits, and a
    concurrent CREATE INDEX CONCURRENTLY in the upgrader that holds the lock waits
    for that snapshot: a deadlock. Polling and committing between tries avoids it.
    """
    deadline = time.monotonic() + patience
    announced = False
    while True:
        locked = connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        )
        connection.commit()
        if locked:
            return
        if not announced:
            logger.info("Another upgrade is running; waiting for it to finish")
            announced = True
        if time.monotonic() > deadline:
            raise CommandError(
                f"another `flask db upgrade` held the migration lock for more than {patience} s;"
                " is one stuck? (see pg_locks where locktype = 'advisory')"
            )
        time.sleep(0.5)


def lock_timed_out(error):
    """Whether `error` is a revision giving up on a lock: worth another attempt."""
    return isinstance(error, DBAPIError) and sqlstate(error) in RETRYABLE_SQLSTATES


def run_with_retries(connection, migrate, settings, scripts):
    """Call `migrate()`, retrying while a revision times out waiting for a lock.

    Each retry waits a delay drawn below MIGRATION_RETRY_DELAY_SECONDS doubled per attempt,
    capped (pgroll's backoff): the randomness keeps a retry from meeting the same periodic
    transaction again.
    """
    attempts = settings["MIGRATION_ATTEMPTS"]

    def log_retry(state):
        logger.warning(
            "Attempt %d of %d: revision %s %s; retrying in %.2f s",
            state.attempt_number,
            attempts,
            pending_revision(connection, scripts) or "?",
            first_line(state.outcome.exception()),
            state.next_action.sleep,
        )

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lock_timed_out),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_random_exponential(
            multiplier=settings["MIGRATION_RETRY_DELAY_SECONDS"], max=MAX_RETRY_DELAY_SECONDS
        ),
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        retrying(migrate_rolling_back, connection, migrate)
    except DBAPIError as error:
        revision = pending_revision(connection, scripts) or "?"
        cause = first_line(error)
        still_at = ", ".join(sorted(current_heads(connection))) or "base"
        if not lock_timed_out(error):
            raise CommandError(
                f"revision {revision} failed: {cause}; the database is still at {still_at}"
            ) from None
        raise CommandError(
            f"revision {revision} could not get its lock after {attempts} attempts "
            f"({cause}); a long transaction holds it (see pg_stat_activity). "
            f"The database is still at {still_at}"
        ) from None


def migrate_rolling_back(connection, migrate):
    """Call `migrate()`; if it fails, roll back what its transaction left open."""
    try:
        migrate()
    except DBAPIError:
        if connection.in_transaction():
            connection.rollback()
        raise


def pending_revision(connection, scripts):
    """Return the id of the revision an upgrade would run next, or None."""
    current = next(iter(current_heads(connection)), None)
    for script in scripts.walk_revisions():
        if script.down_revision == current:
            return script.revision
    return None


def current_heads(connection):
    """Return the database's revisions, ending the read's transaction."""
    heads = database_heads(connection)
    connection.commit()
    return heads


def database_heads(connection):
    """Return the revisions alembic_version holds (empty for a new database)."""
    if not connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
        return set()
    return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


# The compatibility record: schema_revisions, kept in step with alembic_version.


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


def compatibility_records(connection):
    """Return {revision: (down_revision, backward_compatible)} as recorded at upgrade."""
    if not connection.scalar(text(f"SELECT to_regclass('{COMPAT_TABLE}') IS NOT NULL")):
        return {}
    rows = connection.execute(
        text(f"SELECT revision, down_revision, backward_compatible FROM {COMPAT_TABLE}")
    )
    return {row.revision: (row.down_revision, row.backward_compatible) for row in rows}


class RollbackRefused(Exception):
    """The database is ahead of this release in a way this release must not run on."""


def check_rollback(connection, unknown, code_heads):
    """Explain why this older release may run on a newer schema, or raise RollbackRefused.

    Every revision between the database's heads and this code's heads must be
    recorded as backward compatible; then this release can serve as it is.
    """
    records = compatibility_records(connection)
    for head in sorted(unknown):
        revision = head
        while revision not in code_heads:
            if revision not in records:
                raise RollbackRefused(
                    f"the database is at revision {head}, which this release does not know, "
                    f"and nothing records whether {revision} is backward compatible; deploy "
                    "the release that has it, or downgrade the schema with that release first"
                )
            down_revision, compatible = records[revision]
            if not compatible:
                raise RollbackRefused(
                    f"the database is at revision {head}, ahead of this release "
                    f"({', '.join(sorted(code_heads))}), and revision {revision} is not marked "
                    "backward compatible, so this release's code may not work with it; roll "
                    "forward again, or run `flask db downgrade "
                    f"{', '.join(sorted(code_heads))}` with the newer release first"
                )
            revision = down_revision
    return (
        f"the database is at {', '.join(sorted(unknown))}, ahead of this release's head "
        f"{', '.join(sorted(code_heads))}; the newer revisions are marked backward compatible"
    )


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


# The history check: what the record says ran, against this code's chain.


@dataclass
class History:
    """How the database's record of applied revisions compares with this code's chain."""

    heads: set
    # Each list runs from the oldest revision up.
    skipped: list = field(default_factory=list)  # never recorded, above recorded ones
    relinked: list = field(default_factory=list)  # (script, record) applied on another parent
    changed: list = field(default_factory=list)  # scripts whose code changed since they ran
    assumed: list = field(default_factory=list)  # scripts that predate the record
    unsummed: list = field(default_factory=list)  # scripts recorded without a checksum

    def errors(self, strict=False):
        """Return the problems that stop the release phase, one paragraph each."""
        problems = [relink_message(script, record) for script, record in self.relinked]
        if self.skipped and not self.relinked:
            problems.append(
                f"revisions {ids(self.skipped)} were never recorded as applied, though "
                "revisions below and above them were"
            )
        if strict:
            problems += [changed_message(script, record) for script, record in self.changed]
        return problems

    def warnings(self, strict=False):
        """Return the problems that are only reported."""
        return [] if strict else [changed_message(s, record) for s, record in self.changed]


def check_history(connection, scripts):
    """Compare the record with the chain below the database's heads; change nothing."""
    records = recorded_revisions(connection)
    history = History(heads=database_heads(connection))
    known = {script.revision for script in scripts.walk_revisions()}
    for head in sorted(history.heads & known):
        above_a_record = False
        for script in reversed(list(scripts.iterate_revisions(head, "base"))):
            record = records.get(script.revision)
            if record is None:
                (history.skipped if above_a_record else history.assumed).append(script)
                continue
            above_a_record = True
            if record["down_revision"] != parent_of(script):
                history.relinked.append((script, record))
            if record.get("checksum") is None:
                history.unsummed.append(script)
            elif record["checksum"] != script_checksum(script):
                history.changed.append((script, record))
    return history


def validate_history(connection, scripts, strict=False):
    """Raise CommandError, before anything changes, when the record disagrees with the chain."""
    history = check_history(connection, scripts)
    for warning in history.warnings(strict):
        logger.warning("%s", warning)
    problems = history.errors(strict)
    if problems:
        raise CommandError(refusal(history, problems))
    return history


def refusal(history, problems):
    """Return the release phase's refusal: what disagrees, its probable cause, the way out."""
    at = ", ".join(sorted(history.heads))
    lines = [f"the database's migration history disagrees with this release (at {at}):"]
    lines += [f"- {problem}" for problem in problems]
    if history.skipped:
        lines.append(
            f"Alembic would take {ids(history.skipped)} as applied and skip them. Nothing "
            "was changed. Either apply them by hand with this release, `flask db "
            'apply-skipped` (docs/releases.md, "Skipped revisions"), then run the release '
            "phase again; or restore the database from a backup taken before the relinked "
            "revision ran, and deploy this release."
        )
    elif history.changed:
        lines.append(
            "Nothing was changed. Check that the change is only cosmetic, then accept it "
            "with `flask db validate --accept-checksums`, or restore the revision's file."
        )
    return "\n".join(lines)


def relink_message(script, record):
    """Describe a revision applied on a parent other than the one this code names."""
    ran = re.sub(r"\.\d+", "", record.get("applied_at", "?"))
    cause = f"git log --first-parent -L '/^down_revision/,+1:{script_file(script)}'"
    if record.get("release") and release_commit():
        cause = (
            f"git log --first-parent {record['release'][:10]}..{release_commit()[:10]} "
            f"-- {script_file(script)}"
        )
    return (
        f"revision {script.revision} ran on top of {record['down_revision'] or 'base'}"
        f" (at {ran}), but this release's {script.revision} revises "
        f"{parent_of(script) or 'base'}: its down_revision was changed after it shipped. "
        f"The commit that did it is probably in `{cause}`"
    )


def changed_message(script, record):
    """Describe a revision whose code changed after it ran."""
    return (
        f"revision {script.revision}'s code changed since it ran (checksum "
        f"{record['checksum'][:12]} recorded, {script_checksum(script)[:12]} now, in "
        f"{script_file(script)}): a shipped revision is frozen"
    )


def backfill_record(connection, history):
    """Record what the database has but the record lacks, saying what it assumed."""
    for script in history.assumed:
        write_record(connection, script, note="backfilled: ran before the record existed")
    for script in history.unsummed:
        connection.execute(
            text(
                f"UPDATE {COMPAT_TABLE} SET checksum = :checksum, note = :note"
                " WHERE revision = :revision"
            ),
            {
                "revision": script.revision,
                "checksum": script_checksum(script),
                "note": f"checksum backfilled by release {release_commit() or '?'}",
            },
        )
    connection.commit()
    if history.assumed:
        logger.warning(
            "Backfilled the record: assumed %s ran, as this release's chain says, before "
            "the record existed",
            ids(history.assumed),
        )
    if history.unsummed:
        logger.warning(
            "Backfilled the record: checksums of %s taken from this release's files, "
            "assuming their code has not changed since they ran",
            ids(history.unsummed),
        )


def apply_skipped(context, connection, history):
    """Run the skipped revisions' upgrades, oldest first, each in its own transaction.

    alembic_version stays where it is: the database already counts them as applied.
    Then the relinked revisions' records take this code's parents, keeping what ran.
    """
    for script in history.skipped:
        logger.info("Applying skipped revision %s late: %s", script.revision, script.doc)
        try:
            with Operations.context(context), context.begin_transaction():
                script.module.upgrade()
                write_record(connection, script, note="applied late by flask db apply-skipped")
        except DBAPIError as error:
            if connection.in_transaction():
                connection.rollback()
            raise CommandError(
                f"revision {script.revision} failed: {first_line(error)}; the revisions "
                "before it are applied and recorded. Fix the cause and run `flask db "
                "apply-skipped` again"
            ) from None
    for script, record in history.relinked:
        connection.execute(
            text(
                f"UPDATE {COMPAT_TABLE} SET down_revision = :down, note = :note"
                " WHERE revision = :revision"
            ),
            {
                "revision": script.revision,
                "down": parent_of(script),
                "note": f"ran on top of {record['down_revision']}; its skipped ancestors "
                "were applied late by flask db apply-skipped",
            },
        )
    connection.commit()


def accept_checksums(connection, history):
    """Record this release's checksums for revisions whose code changed since they ran."""
    for script, record in history.changed:
        connection.execute(
            text(
                f"UPDATE {COMPAT_TABLE} SET checksum = :checksum, note = :note"
                " WHERE revision = :revision"
            ),
            {
                "revision": script.revision,
                "checksum": script_checksum(script),
                "note": f"checksum {record['checksum'][:12]} replaced by release "
                f"{release_commit() or '?'} (flask db validate --accept-checksums)",
            },
        )
    connection.commit()


def recorded_revisions(connection):
    """Return {revision: row as a dict} from the record, whichever columns it has so far."""
    if not connection.scalar(text(f"SELECT to_regclass('{COMPAT_TABLE}') IS NOT NULL")):
        return {}
    rows = connection.scalars(text(f"SELECT to_jsonb(record) FROM {COMPAT_TABLE} record"))
    return {row["revision"]: row for row in rows}


def ids(scripts):
    """Return "0006, 0007" for a list of scripts."""
    return ", ".join(script.revision for script in scripts)


def script_file(script):
    """Return a script's path as the repository names it (migrations/versions/...)."""
    return f"migrations/versions/{Path(script.path).name}"


CHECKSUMS = {}


def script_checksum(script):
    """Return the checksum of a script's file, read once per process."""
    if script.path not in CHECKSUMS:
        CHECKSUMS[script.path] = revision_checksum(Path(script.path).read_text())
    return CHECKSUMS[script.path]


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


# What a revision is, for the record and the freeze test: its code without docstrings.

DOCUMENTED = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def frozen_source(source):
    """Return a revision's code as Python's unparser writes it, without docstrings or comments.

    Formatting, quotes, comments and docstrings may change in a shipped revision; this
    text may not (down_revision, the operations, the marks).
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, DOCUMENTED) and node.body and is_docstring(node.body[0]):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def is_docstring(statement):
    """Return whether a statement is a bare string (a docstring when it comes first)."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def revision_checksum(source):
    """Return the SHA-256 of a revision's frozen source (hex)."""
    return hashlib.sha256(frozen_source(source).encode()).hexdigest()
