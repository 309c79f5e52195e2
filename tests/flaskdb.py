"""`flask db ...` and `flask release ...` as the platform runs them: a subprocess, real settings."""

import os
import subprocess
import sys
from pathlib import Path

from devenv import ROOT

FLASK = str(Path(sys.executable).parent / "flask")


def flask_db(url, *args, cwd=ROOT, app="wsgi", **settings):
    """Run `flask db ...` in `cwd` against database `url`; return (exit code, output)."""
    return flask_command(url, "db", *args, cwd=cwd, app=app, **settings)


def flask_release(url, *args, cwd=ROOT, app="wsgi", **settings):
    """Run `flask release ...` (the release extras) against database `url`, as flask_db."""
    return flask_command(url, "release", *args, cwd=cwd, app=app, **settings)


def flask_command(url, group, *args, cwd=ROOT, app="wsgi", **settings):
    """Run `flask GROUP ...` in `cwd` against database `url`; return (exit code, output)."""
    done = subprocess.run(
        [FLASK, "--app", app, group, *args],
        cwd=cwd,
        env={
            **os.environ,
            "APP_SETTINGS": "config.TestingConfig",
            "TEST_DATABASE_URL": url,
            **settings,
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.returncode, done.stdout + done.stderr
