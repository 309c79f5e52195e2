"""Memo's web process as the Procfile runs it, on 127.0.0.1, for tests and benchmarks.

A LiveServer is the Procfile's `web` command under ProductionConfig (the front, front/, before
WEB_CONCURRENCY gunicorn workers, the real gunicorn.conf.py) on a free port. It is stopped as
the platform stops a dyno (devenv/dyno.py: SIGTERM to every process it started at once), and
nothing it starts outlives its user. It serves plain HTTP on
127.0.0.1 with no router in front: browsers keep and send `Secure` cookies for 127.0.0.1
and localhost (potentially trustworthy origins), so production's cookie settings work
unchanged, and without `X-Forwarded-Proto: https` Flask-WTF's HTTPS-only Referer check stays
off, as it would for any plain-HTTP request.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import psutil
import requests

from devenv import ROOT, dyno

SECRET_KEY = "a-test-secret-that-is-long-enough-0123456789"
# What a production process here needs to start: its web side never sends mail, and a test
# that wants mail delivered names its own server (devenv/mailserver.py) and site.
# What production requires beside the secret, the database and the store: the mail's
# settings, and the key of the authenticator apps' secrets (a fixed one, for local runs only).
LOCAL_MAIL_SETTINGS = {
    "SMTP_URL": "smtp://127.0.0.1:25?tls=off",
    "MAIL_FROM": "Memo <memo@localhost>",
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "TWO_STEP_KEY": "bG9jYWwtcnVucy1vbmx5LW5vdC1hLXJlYWwta2V5ISE=",
}


def free_port():
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def program(name):
    """Return the path of a command installed in this virtualenv."""
    return str(Path(sys.executable).parent / name)


def procfile_command(process="web"):
    """Return the Procfile's command for `process`, its program taken from this virtualenv."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    processes = dict(line.split(":", 1) for line in lines if line.strip())
    name, *args = processes[process].split()
    return [program(name), *args]


def production_environment(database_url, store_environment, **environ):
    """Return the environment of a production dyno using this database and object store."""
    return {
        **LOCAL_MAIL_SETTINGS,
        **os.environ,
        **store_environment,
        "APP_SETTINGS": "config.ProductionConfig",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        **environ,
    }


def release_phase(database_url, store_environment):
    """Run the Procfile's release command (the migrations) against `database_url`."""
    environ = production_environment(database_url, store_environment)
    subprocess.run(procfile_command("release"), cwd=ROOT, env=environ, check=True, timeout=120)


class Gunicorn:
    """A gunicorn master on a free port of 127.0.0.1; its output goes to `log_path`.

    gunicorn.conf.py binds 0.0.0.0 as a platform needs; a local server stays on loopback.
    """

    def __init__(self, command, environ, log_path, workers, cwd=ROOT, options=""):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command, self.cwd = command, cwd
        self.log_path = Path(log_path)
        self.workers = workers
        bind = f"--bind 127.0.0.1:{self.port} {options}".strip()
        self.mark = dyno.new_mark("web")
        self.environ = {
            **environ,
            dyno.MARK: self.mark,  # every process it starts carries it (devenv/dyno.py)
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_CMD_ARGS": bind,
        }
        self.process = None
        self.terminated = False

    def start(self, ready_path="/healthz", timeout=30):
        """Start gunicorn and wait until every worker is up and one answers `ready_path`."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            if len(self.worker_pids()) == self.workers and self.answers(ready_path):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not come up in {timeout} s:\n{self.log()}")

    def answers(self, path):
        """Return whether GET `path` answers 200 right now."""
        try:
            return requests.get(self.url + path, timeout=2, allow_redirects=False).ok
        except requests.RequestException:
            return False

    def gunicorn_master(self):
        """Return the gunicorn master as a psutil process (here, the process started)."""
        return psutil.Process(self.process.pid)

    def worker_processes(self):
        """Return the live workers (the gunicorn master's children) as psutil processes."""
        try:
            children = self.gunicorn_master().children()
        except (psutil.NoSuchProcess, LookupError):
            return []
        return [child for child in children if child.status() != psutil.STATUS_ZOMBIE]

    def worker_pids(self):
        """Return the process ids of the live workers."""
        return {worker.pid for worker in self.worker_processes()}

    def worker_serving(self, client_port):
        """Return the pid of the worker holding the connection from our local `client_port`."""
        for pid in self.worker_pids():
            for connection in psutil.Process(pid).net_connections(kind="tcp"):
                if connection.raddr and connection.raddr.port == client_port:
                    return pid
        return None

    def wait_for_workers(self, count, timeout=30):
        """Wait until `count` workers run (after one died, say) and return their pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not get back to {count} workers in {timeout} s")

    def log(self):
        """Return what gunicorn and the app printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self):
        """Stop as the platform stops a dyno: SIGTERM to every process at once, without waiting."""
        if self.process is not None and self.process.poll() is None and not self.terminated:
            dyno.terminate(self.mark)
            self.terminated = True

    def stop(self):
        """Stop as the platform does (SIGTERM to all, SIGKILL 30 s later); return the exit code."""
        if self.process is None:
            return None
        self.terminate()
        if not dyno.wait_gone(self.mark, dyno.KILL_SECONDS):
            dyno.kill(self.mark)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=10)


class Front(Gunicorn):
    """The Procfile's web command (front/ before gunicorn) on a free port of 127.0.0.1."""

    def __init__(self, environ, log_path, workers, options=""):
        super().__init__(procfile_command(), environ, log_path, workers)
        # The front on loopback only; `options` go to gunicorn (it reads them from its environment).
        self.environ.update({"WEB_FRONT_HOST": "127.0.0.1", "GUNICORN_CMD_ARGS": options})

    def gunicorn_master(self):
        """Return the gunicorn master, the front's child that runs gunicorn."""
        for child in psutil.Process(self.process.pid).children():
            if "gunicorn" in " ".join(child.cmdline()):
                return child
        raise LookupError("gunicorn is not running")

    def worker_serving(self, client_port=None):
        """Return the pid of the worker holding a request that the front passed on, if one does."""
        for worker in self.worker_processes():
            sockets = worker.net_connections(kind="unix")
            if len([c for c in sockets if c.laddr.endswith("app.sock")]) > 1:
                # The listening socket, and a connection the front opened to pass a request on.
                return worker.pid
        return None


class LiveServer(Front):
    """The Procfile's web process under ProductionConfig on this database and object store."""

    def __init__(self, database_url, store_environment, log_path, workers=2, **environ):
        public_url = environ.pop("PUBLIC_URL", None)
        environ = production_environment(database_url, store_environment, **environ)
        super().__init__(environ, log_path, workers)
        # Links in mail point here, unless the test names another site.
        self.environ["PUBLIC_URL"] = public_url or self.url
