"""`./scripts/run` started as a user starts it, and stopped at a chosen moment of its start-up.

Used by tests/test_local_run.py.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress

import psutil

from devenv import ROOT
from devenv.liveserver import free_port

# The run's own lines, in the order it prints them: each marks a moment of the start-up.
STAGES = [
    "Starting PostgreSQL",
    "Object store at",
    "Mail server at",
    "Applying migrations",
    "Starting a worker",
    "Serving on",
]


class LocalRun:
    """One `scripts/dev.py run` with its own ports and state folder, in a session of its own."""

    def __init__(self, state):
        self.state = state
        environ = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "SMTP_URL")
            and key not in ("APP_SETTINGS", "TEST_DATABASE_URL")
        }
        environ.update(
            LOCAL_WEB_PORT=str(free_port()),
            LOCAL_S3_PORT=str(free_port()),
            LOCAL_STATE_DIR=str(state),
        )
        self.log_path = state / "run.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "dev.py"), "run"],
            cwd=ROOT,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # as a process manager runs it: the signal goes to it alone
        )

    def output(self):
        """Return what the run printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_line(self, text, timeout=120):
        """Wait until the run prints `text` (or exits); return whether it printed it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if text in self.output():
                return True
            time.sleep(0.02)
        return text in self.output()

    def ours(self):
        """Return the live processes this run started, wherever they were reparented."""
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if process.pid == self.process.pid:
                continue
            with suppress(psutil.Error):
                cmdline = " ".join(process.info["cmdline"] or [])
                if str(self.state) in cmdline or (
                    process.environ().get("LOCAL_STATE_DIR") == str(self.state)
                ):
                    found.append(process)
        return found

    def stop(self, number, timeout=60):
        """Send signal `number` to the run; return its exit code and what it left running."""
        self.process.send_signal(number)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        _, alive = psutil.wait_procs(self.ours(), timeout=10)
        return code, [describe(process) for process in alive]

    def clean_up(self):
        """Kill whatever a failed stop left behind, so that what runs next starts clean."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for process in self.ours():
            with suppress(psutil.Error):
                process.kill()
        self.log.close()


def describe(process):
    """Return a process's command line, for a message."""
    with suppress(psutil.Error):
        return " ".join(process.cmdline())
    return f"pid {process.pid}"


def stop_during_start_up(state, stage, delay, number=signal.SIGTERM):
    """Start a run, signal it `delay` s after it prints `stage`; return (code, left, output)."""
    run = LocalRun(state)
    try:
        if not run.wait_for_line(stage):
            return run.process.poll(), [], run.output()
        time.sleep(delay)
        code, left = run.stop(number)
        return code, left, run.output()
    finally:
        run.clean_up()
