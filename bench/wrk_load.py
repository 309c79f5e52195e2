"""The load of bench/web.py: wrk (Debian's package) driving a scenario, and the peak of database
connections while it runs.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import psutil

from bench.web_report import (
    WARM_UP_SECONDS,
    WRK_THREADS,
)
from devenv import ROOT, say, services

SCENARIO_SCRIPT = ROOT / "bench" / "wrk" / "scenario.lua"


def ensure_wrk():
    """Return the path of wrk, installing Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("Installing the load generator: apt-get install wrk")
        environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        # A machine whose package lists were never fetched knows no wrk yet.
        if subprocess.call(install, env=environ) != 0:
            subprocess.call(["apt-get", "update", "-q"], env=environ)
            subprocess.call(install, env=environ)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "memo bench: the load generator wrk is missing. Install it (Debian/Ubuntu: "
        "`sudo apt-get install wrk`; macOS: `brew install wrk`), then run ./scripts/bench again."
    )


class ConnectionPeak:
    """Poll pg_stat_activity in a thread and keep the most connections seen to one database."""

    def __init__(self, database, name):
        self.connection = services.connect(database.server.get_uri("postgres"))
        self.name = name
        self.peak = 0
        self.running = False

    def poll(self):
        with self.connection.cursor() as cursor:
            while self.running:
                # Client backends only: autovacuum workers show up under the database too.
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend'",
                    (self.name,),
                )
                self.peak = max(self.peak, cursor.fetchone()[0])
                time.sleep(0.02)

    def __enter__(self):
        self.running = True
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.connection.close()


class Wrk:
    """wrk with the settings every scenario shares."""

    def __init__(self, wrk, connections, seconds):
        self.wrk, self.connections, self.seconds = wrk, connections, seconds

    def run(self, port, path, seconds, cookie="", script_args=()):
        """Run wrk against one path for `seconds`; return the figures scenario.lua reports."""
        command = [
            self.wrk,
            f"-t{WRK_THREADS}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "-H",
            "X-Forwarded-Proto: https",
            "-s",
            str(SCENARIO_SCRIPT),
        ]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        command += [f"http://127.0.0.1:{port}{path}", "--", *script_args]
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
        sockets = sum(figures[kind] for kind in ("connect", "read", "write", "timeout"))
        figures["errors"] = figures["unexpected"] + sockets
        return figures

    def measure(self, database, name, server, path, cookie="", script_args=()):
        """Warm up, then measure one scenario with the database connections polled.

        `cpu_ms` is the CPU the server's processes spent per request: unlike requests/s,
        it hardly depends on what else the machine runs.
        """
        self.run(server.port, path, WARM_UP_SECONDS, cookie, script_args)
        cpu_before = cpu_seconds(server)
        with ConnectionPeak(database, name) as peak:
            figures = self.run(server.port, path, self.seconds, cookie, script_args)
        figures["cpu_ms"] = (cpu_seconds(server) - cpu_before) / figures["requests"] * 1000
        figures["peak_connections"] = peak.peak
        return figures


def cpu_seconds(server):
    """Return the user+system CPU seconds the server's processes have used so far.

    Every process of the tree counts (the front, the gunicorn master, its workers);
    one that exited, recycled by `max_requests` say, counts in its parent's `children_*`.
    """
    total, root = 0.0, psutil.Process(server.process.pid)
    for process in [root, *root.children(recursive=True)]:
        # One that exits meanwhile is counted in its parent's times, read after.
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(process.cpu_times()[:4])
    return total
