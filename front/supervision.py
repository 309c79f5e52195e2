"""Supervision: gunicorn started behind the front, and the web process stopped as a dyno is.

The platform sends SIGTERM to every process of the dyno at once, possibly more than once, and
SIGKILL 30 s later (https://devcenter.heroku.com/articles/dyno-shutdown-behavior). On the first
SIGTERM (or SIGINT, SIGHUP) the front stops listening, closes idle connections, and finishes
every request in flight, bodies still arriving included, within 25 s; then it stops gunicorn
with SIGINT. gunicorn ignores SIGTERM while the front runs it (gunicorn.conf.py knows it by its
Unix socket), so the platform's SIGTERM does not stop it under requests the front still has to
pass on. gunicorn runs in a process group of its own (Ctrl-C reaches the front alone) and gets
SIGINT from the kernel if the front dies first (PR_SET_PDEATHSIG).
"""

import asyncio
import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import uvloop

from config import ConfigError, load_config
from front.budgets import BODY_SLOTS, MAX_CONNECTIONS
from front.serving import STOP_SECONDS, Front

STARTUP_SECONDS = 30
# Descriptors the front may need: its connections, a spooled file and a gunicorn connection
# for each request with a body, and some to spare. Production refuses to start below this.
NEEDED_DESCRIPTORS = MAX_CONNECTIONS + 2 * BODY_SLOTS + 64


def app_server_command(args, socket_path):
    """Return the app server's command, run as a module of this Python, bound to the socket.

    `python -m gunicorn` puts the working directory (the app's folder) first on the module
    path, so gunicorn.conf.py and wsgi.py import the app as they are, installed or not.
    """
    name, *rest = args
    return [sys.executable, "-m", name, *rest, "--bind", f"unix:{socket_path}"]


PR_SET_PDEATHSIG = 1  # prctl(2)


def start_app_server(command, environ):
    """Start gunicorn in a process group of its own; it gets SIGINT if the front dies."""
    parent = os.getpid()

    def shield():
        """In the child before exec: a process group of its own, SIGINT when the front dies."""
        os.setpgrp()
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)
        if os.getppid() != parent:  # the front died before prctl: nobody would stop this child
            os._exit(1)

    return subprocess.Popen(command, env=environ, preexec_fn=shield)  # noqa: S603, PLW1509


def wait_for_socket(app_server, socket_path):
    """Wait until gunicorn listens on its socket; return its exit code if it stops first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if app_server.poll() is not None:
            return app_server.returncode
        if socket_path.exists():
            return None
        time.sleep(0.05)
    return 1


def stop_app_server(app_server, seconds):
    """Stop gunicorn (SIGINT: nothing is in flight any more), killing it after `seconds`."""
    if app_server.poll() is None:
        app_server.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            app_server.wait(timeout=max(seconds, 0.1))
    if app_server.poll() is None:
        app_server.kill()
        app_server.wait()


def check_descriptors(settings):
    """Raise the soft descriptor limit to what the front needs; refuse to start without it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = NEEDED_DESCRIPTORS
    if soft < wanted:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
            soft = min(wanted, hard)
    if soft < wanted and "PUBLIC_URL" in settings.REQUIRED:  # staging and production
        sys.exit(
            f"memo: the web front needs {wanted} file descriptors and this dyno allows "
            f"{soft}: its connection budget would not hold"
        )


# SIGHUP: the terminal of `./scripts/run` closed, which stops the web process as Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


async def serve_front(front, app_server, environ):
    """Serve until a stop signal or until gunicorn exits; return the exit code."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for each in STOP_SIGNALS:
        loop.add_signal_handler(each, stop.set)
    host = environ.get("WEB_FRONT_HOST", "0.0.0.0")  # noqa: S104 (the platform's router connects)
    await front.listen(host, int(environ.get("PORT", "5000")))
    watcher = loop.create_task(asyncio.to_thread(app_server.wait))
    stopper = loop.create_task(stop.wait())
    await asyncio.wait([watcher, stopper], return_when=asyncio.FIRST_COMPLETED)
    started = time.monotonic()
    front.stop_listening()
    await front.finish(STOP_SECONDS - 2)
    stopper.cancel()
    # gunicorn stopped on its own: the dyno is broken, let the platform restart it.
    code = 1 if watcher.done() else 0
    await asyncio.to_thread(
        stop_app_server, app_server, STOP_SECONDS - (time.monotonic() - started)
    )
    return code


class Stop(Exception):
    """A stop signal came before the front was serving."""


def raise_stop(number, frame):
    raise Stop


def serve(args, settings, folder):
    """Start gunicorn, then serve in front of it until a stop signal; return the exit code."""
    socket_path = folder / "app.sock"
    command = app_server_command(args, socket_path)  # the Procfile's, not a client's
    app_server = start_app_server(command, os.environ)
    try:
        failed = wait_for_socket(app_server, socket_path)
        if failed is not None:
            return failed
        front = Front(settings, socket_path)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(serve_front(front, app_server, os.environ))
    except Stop:
        return 0
    finally:
        for each in STOP_SIGNALS:  # once stopping, a second signal waits
            signal.signal(each, signal.SIG_IGN)
        stop_app_server(app_server, STOP_SECONDS)


def main():
    """Check the configuration, then serve until SIGTERM."""
    args = sys.argv[1:] or ["gunicorn", "wsgi:app"]
    try:
        settings = load_config()
    except ConfigError as error:
        sys.exit(f"memo: configuration error: {error}")
    check_descriptors(settings)
    for each in STOP_SIGNALS:
        signal.signal(each, raise_stop)
    try:
        folder = Path(tempfile.mkdtemp(prefix="memo-web-"))
    except OSError as error:
        sys.exit(f"memo: the web front has no temporary folder for bodies and its socket: {error}")
    tempfile.tempdir = str(folder)  # bodies and responses past MEMORY_BYTES are spooled here
    try:
        return serve(args, settings, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
