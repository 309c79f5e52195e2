#!/usr/bin/env python3
"""Benchmark the worker: the site stays fast under slow word counts; the worker's memory.

    .venv/bin/python bench/jobs.py [--slow-counts 50] [--requests 300] [--export-mb 100]

Starts an embedded PostgreSQL and a local S3 server, migrates, then runs the Procfile's
`web` (gunicorn, 2 workers x 4 threads) and one `worker` (4 jobs at once) as processes,
under TestingConfig (the only config whose fetcher may reach pages served on 127.0.0.1).
Two parts, each bounded, figures printed as JSON (bench/README.md has a recorded run):

1. The notes list's p50/p99 over `--requests` GETs (4 clients), idle, then again while
   `--slow-counts` word counts of a page that takes 8 s to answer are queued and running;
   and the slowest of those `POST /wordcount`s.
2. Peak RSS of the web processes and the worker while the worker writes one user's
   `--export-mb` MB export (a job: a zip, uploaded in parts). A photo's peak is
   bench/photo_peak.py's.
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests

from devenv import ROOT
from devenv.flaskdb import flask_db
from devenv.liveserver import free_port, procfile_command
from devenv.memory import rss_mb
from devenv.services import ObjectStore, ensure_database, query, throwaway_postgres
from devenv.visitors import CSRF_TOKEN, PASSWORD

BIN = Path(sys.executable).parent


class Pages(BaseHTTPRequestHandler):
    """A slow page: a few words of HTML after 8 s."""

    def do_GET(self):
        time.sleep(8)
        body = b"<p>pelicans and words, words and pelicans</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Site:
    """A signed-in user of the app over HTTP, as a browser: cookies and the CSRF token."""

    def __init__(self, base_url, email, nickname):
        self.base_url, self.session, self.token = base_url, requests.Session(), None
        page = self.get("/auth/signup")
        assert page.status_code == 200
        data = {"email": email, "nickname": nickname}
        data.update(password=PASSWORD, password_confirm=PASSWORD)
        assert self.post("/auth/signup", data).status_code == 302
        # Signing up signs nobody in: sign in as the page it leads to says.
        self.get("/auth/login")
        signed_in = self.post("/auth/login", {"email": email, "password": PASSWORD})
        assert signed_in.status_code == 302
        self.get(signed_in.headers["Location"])  # the new session's CSRF token

    def get(self, path, **options):
        response = self.session.get(self.base_url + path, allow_redirects=False, **options)
        match = CSRF_TOKEN.search(response.text) if not options.get("stream") else None
        self.token = match.group(1) if match else self.token
        return response

    def post(self, path, data, files=None):
        data = {**data, "csrf_token": self.token}
        return self.session.post(self.base_url + path, data, files=files, allow_redirects=False)


def percentiles(samples):
    """Return p50 and p99 in ms of durations in seconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def notes_list_latency(site, count, clients=4):
    """GET / `count` times from `clients` threads; return the latency percentiles."""

    def timed(_):
        client = requests.Session()
        client.cookies.update(site.session.cookies)
        started = time.perf_counter()
        assert client.get(site.base_url + "/", allow_redirects=False).status_code == 200
        return time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return percentiles(list(pool.map(timed, range(count))))


def family(processes):
    """Return the processes and all their descendants, each once."""
    members = {}
    for process in processes:
        try:
            for member in (process, *process.children(recursive=True)):
                members[member.pid] = member
        except psutil.NoSuchProcess:
            pass
    return list(members.values())


def family_rss_mb(processes):
    """Return the summed RSS of the processes and their descendants, in MB."""
    return round(sum(rss_mb(member.pid) for member in family(processes)), 1)


def peak_rss_mb(processes, during):
    """Run `during()` while sampling family_rss_mb(processes) every 20 ms; return the peak."""
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], family_rss_mb(processes))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        during()
    finally:
        done.set()
        sampler.join()
    return peak[0]


def seed_export(database_url, email, megabytes):
    """Give a user `megabytes` MB of notes, 20,000 random hex digits each, in SQL.

    Random, so that the archive is not compressed to nothing: about half its size in a zip.
    """
    query(
        database_url,
        "WITH added AS (INSERT INTO note"
        " (title, content, created_at, updated_at, user_id, completed)"
        " SELECT 'note ' || n, (SELECT string_agg(md5(random()::text), '')"
        " FROM generate_series(1, 625 + 0 * n)), now(), now(), id, false"
        ' FROM generate_series(1, %s) AS n, "user" WHERE email = %s RETURNING 1)'
        " SELECT count(*) FROM added",
        (megabytes * 1_000_000 // 20_000, email),
    )


def run(options, environ):
    """Start web and worker, run the two parts, return the figures."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    web_env = {**environ, "PORT": str(port), "WEB_FRONT_HOST": "127.0.0.1"}
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-jobs-"))
    logs = {name: (folder / f"{name}.log").open("wb") for name in ("web", "worker")}
    web = subprocess.Popen(
        procfile_command("web"), cwd=ROOT, env=web_env, stdout=logs["web"],
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(BIN / "flask"), "worker"], cwd=ROOT, env=environ, stdout=logs["worker"],
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                if requests.get(base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        pages = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
        threading.Thread(target=pages.serve_forever, daemon=True).start()
        page_url = f"http://127.0.0.1:{pages.server_address[1]}"
        figures = {"machine": f"{os.cpu_count()} cores, shared", "logs": str(folder)}
        figures["site_under_slow_counts"] = site_under_slow_counts(base_url, page_url, options)
        figures["memory"] = memory(base_url, web, worker, environ, options)
        pages.shutdown()
        return figures
    finally:
        for process in (web, worker):
            process.terminate()
            process.wait(30)


def site_under_slow_counts(base_url, page_url, options):
    """Part 1: the notes list idle, then with slow word counts in flight; POST latencies."""
    reader = Site(base_url, "reader@example.com", "reader")
    for number in range(20):
        reader.post("/notes/new", {"title": f"note {number}", "content": "words"})
    notes_list_latency(reader, 50)  # warm-up: every worker, thread and connection once
    idle = notes_list_latency(reader, options.requests)
    users = [
        Site(base_url, f"u{number}@example.com", f"user{number}")
        for number in range((options.slow_counts + 2) // 3)
    ]
    posts = []
    for number in range(options.slow_counts):
        user = users[number // 3]
        user.get("/wordcount")
        started = time.perf_counter()
        response = user.post("/wordcount", {"url": f"{page_url}/slow/{number}"})
        posts.append(time.perf_counter() - started)
        assert response.status_code == 302, response.status_code
    loaded = notes_list_latency(reader, options.requests)
    return {
        "notes_list_idle": idle,
        "notes_list_with_slow_counts": loaded,
        "p99_ratio": round(loaded["p99_ms"] / idle["p99_ms"], 2),
        "post_wordcount_max_ms": round(max(posts) * 1000, 1),
        "post_wordcount_p50_ms": round(statistics.median(posts) * 1000, 1),
        "slow_counts": options.slow_counts,
    }


def memory(base_url, web, worker, environ, options):
    """Part 2: peak RSS of web and worker during the largest export."""
    web_processes = [psutil.Process(web.pid)]  # the gunicorn master and its workers
    worker_process = psutil.Process(worker.pid)
    owner = Site(base_url, "big@example.com", "bigexport")
    seed_export(environ["DATABASE_URL"], "big@example.com", options.export_mb)
    web_before = family_rss_mb(web_processes)
    worker_before_export = family_rss_mb([worker_process])
    timings = {}

    def export():
        owner.get("/mypage/export")
        started = time.monotonic()
        assert owner.post("/mypage/export", {}).status_code == 302
        deadline = started + 600
        while 'data-status="done"' not in (page := owner.get("/mypage/export").text):
            assert 'data-status="failed"' not in page, "the export failed: see the worker's log"
            assert time.monotonic() < deadline, "the export did not finish in 10 minutes"
            time.sleep(0.2)
        timings["export_seconds"] = round(time.monotonic() - started, 1)
        link = owner.get("/mypage/export/download").headers["Location"]
        timings["archive_mb"] = round(
            int(requests.head(link, timeout=10).headers["Content-Length"]) / 1e6, 1
        )

    worker_peak_export = peak_rss_mb([worker_process], export)
    web_peak = family_rss_mb(web_processes)
    return {
        "export_mb": options.export_mb,
        **timings,
        "web_rss_before_mb": web_before,
        "web_rss_after_export_mb": web_peak,
        "worker_rss_before_export_mb": worker_before_export,
        "worker_rss_peak_during_export_mb": worker_peak_export,
        "worker_rss_after_export_mb": family_rss_mb([worker_process]),
    }


def main():
    """Start the services, run the benchmark, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-counts", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--export-mb", type=int, default=100)
    options = parser.parse_args()

    server, folder = throwaway_postgres("memo-bench-db-")
    ensure_database(server.get_uri(), "bench", recreate=True)
    store = ObjectStore("memo-bench").start()
    environ = {
        **os.environ,
        **store.environment(),
        "APP_SETTINGS": "config.TestingConfig",
        "TEST_DATABASE_URL": server.get_uri("bench"),
        "DATABASE_URL": server.get_uri("bench"),
        "LOG_LEVEL": "WARNING",
    }
    try:
        flask_db(environ["DATABASE_URL"], "upgrade", check=True, timeout=None, **environ)
        print(json.dumps(run(options, environ), indent=2))
    finally:
        store.stop()
        server.cleanup()


if __name__ == "__main__":
    main()
