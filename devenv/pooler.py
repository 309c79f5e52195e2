"""PgBouncer (Debian's `pgbouncer` package) in transaction mode, for tests and benchmarks.

This is what Heroku's connection pooling and Railway's PgBouncer service run in front of
PostgreSQL: each transaction borrows one of at most `pool_size` server connections, whatever
the number of clients. PgBouncer refuses to run as root, so under root it drops to the user
that may reach PostgreSQL's socket (the embedded server's own user), or `nobody` over TCP,
with a folder of its own that it can write.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import unquote

import psycopg2
from sqlalchemy.engine import make_url

from devenv.liveserver import free_port

DEBIAN_PGBOUNCER = "/usr/sbin/pgbouncer"


def pgbouncer_program():
    """Return the path of the pgbouncer program, or None when it is not installed."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    return DEBIAN_PGBOUNCER if os.access(DEBIAN_PGBOUNCER, os.X_OK) else None


def server_address(url):
    """Return (host, port) of the PostgreSQL behind `url`; host may be a socket folder."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "/var/run/postgresql"
    return unquote(host), parsed.port or 5432


def run_as_user(host):
    """Return the user PgBouncer runs as when started by root: one that can reach `host`."""
    if host.startswith("/"):
        return pwd.getpwuid(Path(host).stat().st_uid).pw_name
    return "nobody"


class PgBouncer:
    """A PgBouncer on a free port of 127.0.0.1 in front of one database of `server_url`.

    Clients connect as the database's user (trust, as the local server does); PgBouncer
    logs in to PostgreSQL with the credentials of `server_url`. Its admin console
    (database `pgbouncer`) answers SHOW POOLS for that user.
    """

    def __init__(self, server_url, pool_size=10, max_clients=1000, mode="transaction"):
        self.server_url = make_url(server_url)
        self.pool_size, self.max_clients, self.mode = pool_size, max_clients, mode
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="memo-pgbouncer-"))
        self.user = self.server_url.username
        self.database = self.server_url.database
        self.process = None

    def url(self, **query):
        """Return the URL clients connect to, with the server URL's password and `query`."""
        return (
            self.server_url.set(host="127.0.0.1", port=self.port, query=query)
            .render_as_string(hide_password=False)
            .replace("postgresql+psycopg2://", "postgresql://")
        )

    def settings(self):
        """Return pgbouncer.ini's text."""
        host, port = server_address(self.server_url.render_as_string(hide_password=False))
        server = f"host={host} port={port} dbname={self.database} user={self.user}"
        if self.server_url.password:
            server += f" password={self.server_url.password}"
        return "\n".join(
            [
                "[databases]",
                f"{self.database} = {server}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {self.port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {self.folder / 'users.txt'}",
                f"admin_users = {self.user}",
                f"pool_mode = {self.mode}",
                f"default_pool_size = {self.pool_size}",
                f"max_db_connections = {self.pool_size}",
                "reserve_pool_size = 0",
                f"max_client_conn = {self.max_clients}",
                f"logfile = {self.folder / 'pgbouncer.log'}",
                f"pidfile = {self.folder / 'pgbouncer.pid'}",
                "",
            ]
        )

    def start(self, timeout=10):
        """Write the settings, start pgbouncer and wait until it answers; return self."""
        (self.folder / "pgbouncer.ini").write_text(self.settings())
        (self.folder / "users.txt").write_text(f'"{self.user}" ""\n')
        command = [pgbouncer_program(), str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            user = run_as_user(server_address(str(self.server_url))[0])
            shutil.chown(self.folder, user)
            command[1:1] = ["-u", user]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"pgbouncer exited with {self.process.returncode}:\n{self.log()}"
                )
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer did not answer in {timeout} s:\n{self.log()}")

    def answers(self):
        """Return whether the admin console accepts a connection now."""
        try:
            self.admin("SHOW VERSION")
        except psycopg2.OperationalError:
            return False
        return True

    def admin(self, command):
        """Run one admin console command (SHOW POOLS, ...) and return its rows as dicts."""
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, dbname="pgbouncer", user=self.user, connect_timeout=2
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(command)
                names = [column.name for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            connection.close()

    def pool(self):
        """Return this database's row of SHOW POOLS (clients and servers), {} before any client."""
        rows = self.admin("SHOW POOLS")
        return next((row for row in rows if row["database"] == self.database), {})

    def log(self):
        """Return what pgbouncer logged so far."""
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        """Stop pgbouncer (SIGINT: a fast shutdown) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
