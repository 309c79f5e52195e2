"""Memo behind a real PgBouncer in transaction mode (DATABASE_CONNECTION_POOL_URL).

In transaction mode each transaction may run on a different server connection. The audit
of app/ and of procrastinate 3.10's use found three things, each changed and proven here:
the statement timeout was a startup `options` parameter (PgBouncer 1.18 refuses it), the
worker's psycopg 3 connections prepare statements on the server, and the worker would
LISTEN on whatever URL its queue used. Session SETs and advisory locks live in the release
phase only, which now always takes the direct URL.
"""

import ast
import re
import subprocess
import time
from pathlib import Path

import procrastinate
import psycopg2
import pytest
from sqlalchemy import text

from app import create_app, jobs
from app.extensions import db
from devenv.liveserver import ROOT, procfile_command, production_environment
from devenv.services import query
from tests.databases import HEAD
from tests.workers import wait_for

PROCRASTINATE_QUERIES = Path(procrastinate.__file__).parent / "sql" / "queries.sql"
# What breaks when the next transaction runs on another server connection.
SESSION_BOUND = {
    "a session SET": re.compile(r"(^|;)\s*(RE)?SET\s+(?!LOCAL\b)(SESSION\s+)?\w+", re.I | re.M),
    "a session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.I),
    "a LISTEN": re.compile(r"\bLISTEN\b", re.I),
    "a temporary table": re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\b", re.I),
    "a prepared statement": re.compile(r"\bPREPARE\s+\w+", re.I),
    "a session set_config": re.compile(r"set_config\s*\([^)]*,\s*false\s*\)", re.I),
}


@pytest.fixture
def pooled_app(app, pgbouncer, monkeypatch):
    """The app under TestingConfig with DATABASE_CONNECTION_POOL_URL set to a PgBouncer."""
    bouncer = pgbouncer(pool_size=1)
    monkeypatch.setenv("DATABASE_CONNECTION_POOL_URL", bouncer.url())
    pooled = create_app("config.TestingConfig")
    pooled.bouncer = bouncer
    yield pooled
    with pooled.app_context():
        db.engine.dispose()


SQL_CALLS = {"text", "execute", "exec_driver_sql", "scalar", "scalars"}


def called(node):
    """Return the name of the function or method a call calls."""
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def sql_strings(path):
    """Return the strings a Python file hands to SQLAlchemy or a cursor as SQL."""
    calls = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]
    return [
        part.value
        for call in calls
        if called(call) in SQL_CALLS
        for argument in call.args
        for part in ast.walk(argument)
        if isinstance(part, ast.Constant) and isinstance(part.value, str)
    ]


def session_bound(source):
    """Return the names of what in `source` (SQL) would outlive its transaction."""
    return {name for name, pattern in SESSION_BOUND.items() if pattern.search(source)}


def test_no_request_or_job_query_keeps_anything_on_its_session():
    """The audit, kept: outside the release phase, app/ runs nothing that lives on a session,
    and procrastinate's only one is the LISTEN, which goes to a direct connection."""
    found = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.relative_to(ROOT / "app").parts[0] == "release":  # the release phase: direct URL
            continue
        for source in sql_strings(path):
            for name in session_bound(source):
                found.setdefault(str(path.relative_to(ROOT)), set()).add(name)
    assert found == {}
    # queries.sql: each query under a "-- name --" line.
    _, *named = re.split(r"^-- (\w+) --$", PROCRASTINATE_QUERIES.read_text(), flags=re.M)
    queries = dict(zip(named[::2], named[1::2], strict=True))
    assert len(queries) > 20
    assert {name for name, sql in queries.items() if session_bound(sql)} == {"listen_queue"}
    assert session_bound("SET lock_timeout = 500") == {"a session SET"}  # the patterns work
    assert session_bound("UPDATE t SET a = 1; SET LOCAL statement_timeout = 5") == set()


def test_a_pooled_transaction_has_the_statement_timeout_and_leaves_nothing_behind(pooled_app):
    """Found and changed: the timeout was psycopg2's `options` startup parameter, which
    PgBouncer 1.18 refuses ("unsupported startup parameter: options"), so no pooled
    connection could open; each pooled transaction now sets it with SET LOCAL."""
    with pooled_app.app_context():
        for _ in range(3):
            assert db.session.scalar(text("SHOW statement_timeout")) == "15s"
            db.session.commit()
    # The server connection the app used (the pool has one) went back with no timeout set.
    connection = psycopg2.connect(pooled_app.bouncer.url())
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("0",)
    finally:
        connection.close()


def test_the_release_phase_takes_the_direct_url_never_the_pooler(postgres, pgbouncer, object_store):
    """Found and changed: the migrations ran on the app's URL, which is the pooler's when one
    is set; their session timeouts and advisory lock would have landed on a server
    connection that other clients then get. They take DATABASE_URL now."""
    scratch = postgres.create_scratch_database()
    bouncer = pgbouncer(scratch)
    environ = production_environment(
        scratch, object_store.environment(), DATABASE_CONNECTION_POOL_URL=bouncer.url()
    )
    subprocess.run(procfile_command("release"), cwd=ROOT, env=environ, check=True, timeout=120)
    assert query(scratch, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    stats = {row["database"]: row for row in bouncer.admin("SHOW STATS")}
    assert stats.get(bouncer.database, {}).get("total_xact_count", 0) == 0


def run_pings(app, postgres, count):
    """Queue `count` no-op jobs and return how long the workers took to run them all."""
    started = time.monotonic()
    with app.app_context():
        ids = [jobs.defer(jobs.ping) for _ in range(count)]
        db.session.commit()
    waiting = "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s)"
    wait_for(lambda: postgres.query(waiting, (ids,)) == [(0,)], timeout=60, message="the jobs")
    return time.monotonic() - started


def test_workers_behind_pgbouncer_never_prepare_a_statement(app, postgres, pgbouncer, workers):
    """Found and changed: psycopg 3 prepares a query on the server after 5 runs, and the
    next transaction may reach a server connection that never saw it ("prepared statement
    _pg3_0 does not exist"); the worker's pooled connections never prepare now."""
    bouncer = pgbouncer(pool_size=2)
    started = [workers.start(DATABASE_CONNECTION_POOL_URL=bouncer.url()) for _ in range(2)]
    run_pings(app, postgres, 200)
    for worker in started:
        assert "prepared statement" not in worker.log()
        assert "outcome=failed" not in worker.log()
    assert bouncer.pool()["sv_active"] + bouncer.pool()["sv_idle"] <= 2


def test_a_pooled_worker_listens_on_a_direct_connection(app, postgres, pgbouncer, workers):
    """Found and changed: procrastinate LISTENs on its own pool's URL; through the pooler
    the LISTEN's session goes back to PgBouncer and no notification ever comes, so new jobs
    waited for the next poll (5 s). The LISTEN now takes DATABASE_URL."""
    bouncer = pgbouncer(pool_size=2)
    workers.start(DATABASE_CONNECTION_POOL_URL=bouncer.url())
    listening = "SELECT pid FROM pg_stat_activity WHERE query ILIKE 'LISTEN %%'"
    [(listener,)] = wait_for(lambda: postgres.query(listening), message="a LISTEN")
    assert listener not in {row["remote_pid"] for row in bouncer.admin("SHOW SERVERS")}
    time.sleep(1)  # the worker is idle, waiting
    assert max(run_pings(app, postgres, 1) for _ in range(3)) < 2  # a notification, not a 5 s poll
