"""The formation run's processes and database: workers as the Procfile runs them, a watch on the
role's server connections, and the role with its connection limit.

devenv/formation.py runs them (see its docstring).
"""

import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from devenv import dyno
from devenv.liveserver import ROOT, procfile_command
from devenv.services import execute

ROLE_LIMIT = 20


class Worker:
    """The Procfile's `worker` on the formation's database; its output goes to a log file."""

    def __init__(self, environ, log_path):
        self.log_path = Path(log_path)
        self.mark = dyno.new_mark("worker")  # stopped as the platform stops a dyno
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                procfile_command("worker"),
                cwd=ROOT,
                env={**environ, dyno.MARK: self.mark},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_started(self, timeout=30):
        deadline = time.monotonic() + timeout
        while "worker started" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        dyno.kill(self.mark)  # what it started, too

    def terminate(self):
        """SIGTERM to every process of the worker's dyno at once, as the platform sends it."""
        dyno.terminate(self.mark)

    def stop(self):
        self.terminate()
        if not dyno.wait_gone(self.mark, dyno.KILL_SECONDS):
            dyno.kill(self.mark)
        self.process.wait(timeout=10)


class ConnectionWatch:
    """Polls pg_stat_activity for the role's server connections; keeps the peak."""

    def __init__(self, admin_url, role):
        self.admin_url, self.role = admin_url, role
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        connection = psycopg2.connect(self.admin_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (self.role,)
                    )
                    self.peak = max(self.peak, cursor.fetchone()[0])
                    time.sleep(0.05)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


class FormationDatabase:
    """A role allowed ROLE_LIMIT connections and a database it owns, on the admin's server."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        suffix = uuid.uuid4().hex[:8]
        self.role, self.name = f"memo_formation_{suffix}", f"memo_formation_{suffix}"
        self.url = (
            make_url(admin_url)
            .set(username=self.role, password=None, database=self.name)
            .render_as_string(hide_password=False)
        )

    def create(self):
        execute(
            self.admin_url,
            sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT {}").format(
                sql.Identifier(self.role), sql.Literal(ROLE_LIMIT)
            ),
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(self.name), sql.Identifier(self.role)
            ),
        )
        return self

    def limit(self, connections):
        """Set the role's connection limit (-1: none)."""
        execute(
            self.admin_url,
            sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                sql.Identifier(self.role), sql.Literal(connections)
            ),
        )

    def admin_url_of_database(self):
        return make_url(self.admin_url).set(database=self.name).render_as_string(False)

    def drop(self):
        execute(
            self.admin_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)),
            sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.role)),
        )
