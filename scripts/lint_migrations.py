"""Lint each migration's SQL with squawk, one revision at a time.

Usage (inside .venv): python scripts/lint_migrations.py [--directory DIR] [REVISION ...]

For every revision it writes the SQL of `flask db upgrade <previous>:<revision> --sql`,
exactly what the release phase would run, and hands it to squawk. Linting the whole chain
at once would hide problems (every revision would seem to share one transaction). The
SQL of every revision comes from one process (Flask-Migrate's own `upgrade`, offline),
not one `flask` start per revision.
A revision may excuse a finding only with a reason, in its own file:

    squawk_exceptions = {"rule-name": "why this revision may break the rule"}

Exits 1 when a finding is not excused, or a revision cannot produce its SQL.
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import flask_migrate

from devenv import ROOT
from devenv.revisions import script_directory

BIN = Path(sys.executable).parent
POSTGRES_VERSION = "15.0"  # the oldest server we support (SET NOT NULL via CHECK needs 12+)
ALEMBIC_OWN_TABLE = re.compile(r"CREATE TABLE alembic_version \(.*?\);", re.DOTALL)


def revisions_in_order(directory):
    """Return (previous, script) pairs from the first revision to the head."""
    scripts = list(script_directory(directory).walk_revisions())
    return [(script.down_revision or "base", script) for script in reversed(scripts)]


def offline_app():
    """Return the app under TestingConfig; offline mode never connects, the URL only picks
    the dialect."""
    os.environ["APP_SETTINGS"] = "config.TestingConfig"
    os.environ["TEST_DATABASE_URL"] = "postgresql://lint@localhost/lint"
    from app import create_app, migrating

    app = create_app("config.TestingConfig")
    migrating.init_app(app)
    return app


def revision_sql(app, directory, previous, revision):
    """Return the SQL `flask db upgrade previous:revision --sql` prints, or exit."""
    written = io.StringIO()
    try:
        with app.app_context(), redirect_stdout(written):
            flask_migrate.upgrade(str(directory), f"{previous}:{revision}", sql=True)
    except SystemExit:  # Flask-Migrate logged the reason
        sys.exit(f"lint: `flask db upgrade {previous}:{revision} --sql` failed (see above)")
    return ALEMBIC_OWN_TABLE.sub("", written.getvalue())


def squawk(sql, filename):
    """Return squawk's findings for `sql` as dicts."""
    result = subprocess.run(
        [
            str(BIN / "squawk"),
            "--reporter",
            "json",
            "--pg-version",
            POSTGRES_VERSION,
            "--stdin-filepath",
            filename,
        ],
        input=sql,
        capture_output=True,
        text=True,
    )
    try:
        return json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        sys.exit(f"lint: squawk did not answer in JSON:\n{result.stdout}{result.stderr}")


def exceptions_of(script):
    """Return the revision's reasoned exceptions, refusing any without a reason."""
    exceptions = getattr(script.module, "squawk_exceptions", {})
    for rule, reason in exceptions.items():
        if not isinstance(reason, str) or len(reason.strip()) < 10:
            sys.exit(f"lint: {script.revision}: the exception for {rule} needs a reason")
    return exceptions


def lint(app, directory, previous, script):
    """Print the revision's unexcused findings and return how many there are."""
    filename = f"versions/{Path(script.path).name}"
    findings = squawk(revision_sql(app, directory, previous, script.revision), filename)
    exceptions = exceptions_of(script)
    unexcused = [finding for finding in findings if finding["rule_name"] not in exceptions]
    for finding in unexcused:
        print(
            f"{script.revision} (SQL line {finding['line']}): {finding['rule_name']}: "
            f"{finding['message']}"
        )
    for rule in sorted(set(exceptions) - {finding["rule_name"] for finding in findings}):
        print(f"{script.revision}: note: the exception for {rule} is no longer needed")
    excused = len(findings) - len(unexcused)
    state = "ok" if not unexcused else f"{len(unexcused)} finding(s)"
    print(
        f"{script.revision}: {state}" + (f" ({excused} excused with a reason)" if excused else "")
    )
    return len(unexcused)


def main(arguments):
    """Lint the selected revisions (all by default); exit 1 on any unexcused finding."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", type=Path, default=ROOT / "migrations")
    parser.add_argument("revisions", nargs="*", help="revision ids (default: all)")
    options = parser.parse_args(arguments)
    directory = options.directory.resolve()
    pairs = [
        (previous, script)
        for previous, script in revisions_in_order(directory)
        if not options.revisions or script.revision in options.revisions
    ]
    app = offline_app()
    failures = sum(lint(app, directory, previous, script) for previous, script in pairs)
    if failures:
        print(
            "lint: fix the revision, or add a squawk_exceptions entry with the reason "
            "(see docs/operations.md, 'Linting a new revision')"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
