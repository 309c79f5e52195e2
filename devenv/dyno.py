"""A Procfile process run as the platform runs a dyno, and stopped as the platform stops one.

The platform starts the Procfile's command through bash with `$PORT` (web) and the stack's
PATH, to which the Python buildpack prepends its Python's `bin/` (its `.profile.d/python.sh`);
the app's own `bin/` is not on it (a buildpack's binaries are started by path, as the nginx
buildpack's `bin/start-nginx`). To stop a dyno it sends SIGTERM to every process in the dyno at
once, possibly more than once, and SIGKILL to whatever is left 30 s later
(https://devcenter.heroku.com/articles/dyno-shutdown-behavior). A process group is not a
dyno: programs make their own (the web front does, gunicorn's workers do not), and a process whose
parent died is adopted by init. So every process of an emulated dyno is found by a mark in
its environment, which children inherit whatever their group or parent.
"""

import os
import signal
import subprocess
import time
import uuid
from contextlib import suppress
from pathlib import Path

# The stack's PATH for a dyno's processes (what `heroku run env` prints on the stack), before
# the Python buildpack's profile script puts its Python's bin/ first.
STACK_PATH = "/usr/local/bin:/usr/bin:/bin"
KILL_SECONDS = 30  # the platform's SIGKILL comes 30 s after SIGTERM
MARK = "DEVENV_DYNO"


def dyno_path(python_bin):
    """Return a dyno's PATH: the buildpack's Python first, then the stack's."""
    return f"{python_bin}{os.pathsep}{STACK_PATH}"


def marked(mark):
    """Return the pids of the live processes whose environment carries `mark`."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with suppress(OSError):  # gone meanwhile; a zombie's environment reads empty
                if needle in Path(entry.path, "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def new_mark(name):
    """Return a mark for one dyno's environment, unique on this machine."""
    return f"{name}.{uuid.uuid4().hex[:12]}"


def terminate(mark):
    """Send SIGTERM to every process of the dyno at once, as the platform does."""
    pids = marked(mark)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return pids


def wait_gone(mark, seconds):
    """Wait until no process of the dyno is left; return whether none is."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not marked(mark):
            return True
        time.sleep(0.1)
    return not marked(mark)


def kill(mark):
    """Send SIGKILL to whatever is left of the dyno."""
    for pid in marked(mark):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Dyno:
    """One Procfile process started as the platform starts it; `stop()` stops it as it does."""

    def __init__(self, name, command, cwd, environ, log_path):
        self.name, self.command, self.cwd = name, command, cwd
        self.mark = new_mark(name)
        self.environ = {**environ, "DYNO": name, MARK: self.mark}
        self.log_path = Path(log_path)
        self.popen = None

    def start(self):
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                ["bash", "-c", f"exec {self.command}"],
                cwd=self.cwd,
                env=self.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def terminate(self):
        """SIGTERM to every process of the dyno, without waiting."""
        return terminate(self.mark)

    def stop(self, seconds=KILL_SECONDS):
        """SIGTERM to every process, SIGKILL to what is left after `seconds`.

        Returns the command's exit code ("killed" if it had to be) and the seconds it took for
        every process of the dyno to be gone.
        """
        started = time.monotonic()
        self.terminate()
        if wait_gone(self.mark, seconds):
            code = self.popen.wait(timeout=10)
        else:
            kill(self.mark)
            wait_gone(self.mark, 10)
            self.popen.wait(timeout=10)
            code = "killed"
        return code, time.monotonic() - started

    def kill(self):
        """SIGKILL to every process of the dyno (cleaning up after a failed test)."""
        kill(self.mark)
        if self.popen is not None:
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
