"""`./scripts/run` stops whole, however it is told to: nothing it started is left running.

It starts an embedded PostgreSQL, an object store, an SMTP server, a worker and the web front;
a process manager stops it with SIGTERM (`kill`), a terminal with SIGINT (Ctrl-C).
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress

import psutil
import pytest

from devenv.liveserver import ROOT, free_port
from tests.workers import wait_for


def started_processes(run, state):
    """Return every process the run started: its descendants, and PostgreSQL (a daemon)."""
    processes = run.children(recursive=True)
    for process in psutil.process_iter(["cmdline"]):  # None for a process that just ended
        if str(state) in " ".join(process.info["cmdline"] or []):
            processes.append(process)
    return {process.pid: process for process in processes}.values()


def command_line(process):
    with suppress(psutil.Error):
        return " ".join(process.cmdline())
    return f"pid {process.pid}"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_local_run_stops_everything_it_started(tmp_path, stop):
    port = free_port()
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "SMTP_URL", "APP_SETTINGS")
    }
    environ.update(
        LOCAL_WEB_PORT=str(port), LOCAL_S3_PORT=str(free_port()), LOCAL_STATE_DIR=str(tmp_path)
    )
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "dev.py"), "run"],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # as a process manager runs it: the signal goes to it alone
    )
    started = []
    try:
        wait_for(
            lambda: b"Serving on" in (tmp_path / "run.log").read_bytes(),
            timeout=120,
            message="the local run serving",
        )
        time.sleep(2)  # the worker and the web front up
        started = list(started_processes(psutil.Process(run.pid), tmp_path))
        assert any("worker" in command_line(p) for p in started), "a worker was running"
        run.send_signal(stop)
        assert run.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(started, timeout=10)
        assert [command_line(process) for process in alive] == []
    finally:  # whatever a failed stop left behind goes, so that the next tests start clean
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        for process in started:
            with suppress(psutil.Error):
                process.kill()
        log.close()
