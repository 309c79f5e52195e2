"""The formation run's router that spreads the visitors (devenv/visitor_load.py) over web
processes, the page they count, and its figures per web process.

devenv/formation.py runs them (see its docstring).
"""

import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import procrastinate

from devenv.router import Router, RouterHandler
from devenv.visitor_load import percentile

PAGE = b"<html><body><p>" + b"pelicans glide over the quiet harbour " * 50 + b"</p></body></html>"


class BalancingHandler(RouterHandler):
    """Like the platform's router: each client connection sticks to one live web process."""

    served_by = None

    def upstream(self):
        """Return this connection's web process while it is live, else one picked at random."""
        upstreams = self.server.upstreams
        chosen = self.connected_to
        if chosen not in upstreams:
            chosen = random.choice(upstreams)  # noqa: S311 (spreading load)
        self.served_by = chosen[1]
        return chosen

    def end_headers(self):
        """Name the web process (its port) that served, or failed, the request."""
        if self.served_by:
            self.send_header("X-Served-By", str(self.served_by))
        super().end_headers()


class BalancingRouter(Router):
    """A router over several web processes; add() and remove() change them at once."""

    def __init__(self, upstreams):
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), BalancingHandler)
        self.upstreams = list(upstreams)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def add(self, upstream):
        self.upstreams = [*self.upstreams, upstream]

    def remove(self, upstream):
        self.upstreams = [known for known in self.upstreams if known != upstream]


class PageHandler(BaseHTTPRequestHandler):
    """A local web page for the word counts."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        """Quiet."""


def per_web_process(load, seconds):
    """Return {port: (requests per second, p50 ms, p99 ms)} of the answered requests."""
    served = defaultdict(list)
    for record in load.records:
        if record.served_by and record.failure is None and record.seconds:
            served[record.served_by].append(record.seconds * 1000)
    return {
        port: (len(times) / seconds, statistics.median(times), percentile(times, 0.99))
        for port, times in served.items()
    }


def summary(load, seconds):
    """Return one phase's figures: requests, failures, throughput and p99 per web process."""
    per_web = per_web_process(load, seconds)
    timed = [r.seconds * 1000 for r in load.records if r.seconds and r.failure is None]
    return {
        "requests": sum(1 for r in load.records if r.seconds),
        "failed": [r for r in load.records if r.failure is not None],
        "requests_per_second": len(timed) / seconds,
        "p50_ms": statistics.median(timed) if timed else 0.0,
        "p99_ms": percentile(timed, 0.99),
        "per_web_rps": statistics.mean(v[0] for v in per_web.values()) if per_web else 0.0,
        "per_web_p99_ms": statistics.mean(v[2] for v in per_web.values()) if per_web else 0.0,
        "kinds": Counter(r.kind for r in load.records if r.seconds),
        "declined": load.declined,
    }


def queue_left(database_url, seconds=45):
    """Return the jobs not finished well: (task, status, count) waiting, running or failed.

    Succeeded jobs are deleted. Jobs deferred at the end of the load (an old photo's deletion,
    say) may still be running when it stops, and a killed worker's job waits for the
    stalled-job recovery (three missed heartbeats): waiting or running ones get `seconds` to
    finish; a failed one counts at once. Read through procrastinate's JobManager.
    """
    deadline = time.monotonic() + seconds
    queue = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=database_url))
    with queue.open():
        while True:
            counts = Counter(
                (job.task_name, status)
                for status in ("todo", "doing", "failed")
                for job in queue.job_manager.list_jobs(status=status)
                if job.task_name != "ping" and job.queueing_lock is None
            )
            left = [(task, status, count) for (task, status), count in sorted(counts.items())]
            unfinished = [row for row in left if row[1] in ("todo", "doing")]
            if not unfinished or time.monotonic() > deadline:
                return left
            time.sleep(0.5)
