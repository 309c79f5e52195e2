"""`flask db ...` and `flask release ...` as the platform runs them: a subprocess, real settings.

The one runner of our flask commands for tests/ and bench/. The Procfile's `release:` of a
whole checkout is devenv/releases.py's.
"""

import os
import subprocess
import sys
from pathlib import Path

from devenv import ROOT

FLASK = str(Path(sys.executable).parent / "flask")


def flask_db(url, *args, **options):
    """Run `flask db ...` against database `url`, as flask_command."""
    return flask_command(url, "db", *args, **options)


def flask_release(url, *args, **options):
    """Run `flask release ...` (the release extras) against database `url`, as flask_command."""
    return flask_command(url, "release", *args, **options)


def flask_command(url, group, *args, check=False, timeout=180, **options):
    """Run `flask GROUP ...` against database `url`; return (exit code, output).

    With `check`, a failure raises RuntimeError holding the output. `options` as start_flask's.
    """
    command, settings = invocation(url, group, args, **options)
    done = subprocess.run(command, **settings, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(command[3:])} exited {done.returncode}:\n{output}")
    return done.returncode, output


def start_flask(url, group, *args, **options):
    """Start `flask GROUP ...` against database `url`; return the process, output on stdout."""
    command, settings = invocation(url, group, args, **options)
    return subprocess.Popen(
        command, **settings, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def invocation(url, group, args, cwd=ROOT, app="wsgi", **settings):
    """Return the command and its cwd and environment: TestingConfig unless `settings` say."""
    environment = {"APP_SETTINGS": "config.TestingConfig", "TEST_DATABASE_URL": url, **settings}
    return [FLASK, "--app", app, group, *args], {
        "cwd": cwd,
        "env": {**os.environ, **{key: str(value) for key, value in environment.items()}},
    }
