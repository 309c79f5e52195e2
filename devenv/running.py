"""What `./scripts/run` starts and stops: the local services, a worker and the web front.

Ctrl-C, SIGTERM or a closed terminal stops everything it started, at any moment, also while
it is still starting (tests/test_local_run.py).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

from dotenv import dotenv_values

from devenv import ROOT
from devenv.mailserver import MailServer
from devenv.services import ObjectStore, ensure_database, start_postgres, stop_postgres

VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
# Where ./scripts/run keeps its data (the embedded PostgreSQL's, the objects, the mail).
STATE = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".dev").resolve()
WEB_PORT = int(os.environ.get("LOCAL_WEB_PORT", "5000"))
OBJECT_STORE_PORT = int(os.environ.get("LOCAL_S3_PORT", "9000"))


def say(message):
    """Print a progress line that stands out from the tools' own output."""
    # Where the terminal or the pipe's reader is gone, stopping goes on without the line.
    with suppress(OSError):
        print(f"==> {message}", flush=True)


def port_is_free(port):
    """Return whether nothing listens on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_database(env, stack):
    """Start the embedded PostgreSQL unless DATABASE_URL names one."""
    if env.get("DATABASE_URL"):
        say("Using the database named by DATABASE_URL")
        return
    say(f"Starting PostgreSQL (data in {STATE / 'postgres'})")
    server = start_postgres(STATE / "postgres")
    ensure_database(server.get_uri(), "memo")
    env["DATABASE_URL"] = server.get_uri("memo")
    stack.append(("PostgreSQL", lambda: stop_postgres(server)))


def start_object_store(env, stack):
    """Start the local S3 server unless S3_BUCKET or S3_ENDPOINT_URL names a store."""
    if env.get("S3_BUCKET") or env.get("S3_ENDPOINT_URL"):
        say("Using the object store named by S3_BUCKET / S3_ENDPOINT_URL")
        return
    if not port_is_free(OBJECT_STORE_PORT):
        sys.exit(f"memo: port {OBJECT_STORE_PORT} is taken; stop what uses it or set LOCAL_S3_PORT")
    store = ObjectStore("memo-local", port=OBJECT_STORE_PORT).start()
    store.allow_uploads_from(f"http://127.0.0.1:{WEB_PORT}", f"http://localhost:{WEB_PORT}")
    saved = STATE / "objects"
    restored = store.restore(saved) if saved.exists() else 0
    say(f"Object store at {store.endpoint_url} (bucket memo-local, {restored} objects restored)")
    env.update(store.environment())

    def save_and_stop():
        say(f"Saved {store.save(saved)} objects to {saved}")
        store.stop()

    stack.append(("object store", save_and_stop))


def start_mail_server(env, stack):
    """Start the local SMTP server unless SMTP_URL names one; its mail shows at /dev/inbox."""
    env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{WEB_PORT}")
    if env.get("SMTP_URL"):
        say("Sending mail through the server named by SMTP_URL")
        return
    folder = STATE / "mail"
    server = MailServer(folder).start()
    env.update(SMTP_URL=server.url, LOCAL_MAIL_DIR=str(folder))
    say(f"Mail server at 127.0.0.1:{server.port}: read it at {env['PUBLIC_URL']}/dev/inbox")
    stack.append(("mail server", server.stop))


class Stop:
    """The run's stop request: set by Ctrl-C, SIGTERM or a closed terminal, at any moment.

    The handler only records the signal; the main thread looks at it between start-up steps
    and while it waits, and then stops what it started. (A handler that raised there could
    land between starting a process and recording it, leaving the process behind; and a
    signal taken by another thread while the main thread blocks in a wait is only acted on
    when the main thread runs again, hence waits in short steps.)
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self.requested = threading.Event()
        for number in self.SIGNALS:
            signal.signal(number, self.handle)

    def handle(self, number, frame):
        """Record the stop; a closed terminal (SIGHUP) also leaves nowhere to print."""
        if number == signal.SIGHUP and not self.requested.is_set():
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, sys.stdout.fileno())  # writing to a closed terminal fails (EIO)
            os.dup2(quiet, sys.stderr.fileno())
        self.requested.set()

    def wait_for(self, process):
        """Wait until `process` exits (return its code) or a stop is asked for (return None)."""
        while not self.requested.is_set():
            code = process.poll()
            if code is not None:
                return code
            time.sleep(0.1)
        return None


def end_process(process, seconds, name):
    """Stop a child with SIGTERM (its graceful stop), and SIGKILL it after `seconds`."""
    with suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        say(f"The {name} did not stop within {seconds} s; killing it")
        process.kill()
        process.wait()


class Worker:
    """One `flask worker` beside the web server, started again whenever it exits, as the
    platform restarts a crashed dyno; stop() ends it for good.

    In a session of its own, so that Ctrl-C reaches it once, from here, as SIGTERM: the
    stop the platform sends, which lets running jobs finish.
    """

    def __init__(self, env):
        self.env = env
        self.lock = threading.Lock()  # a restart and stop() never cross
        self.stopped = False
        self.process = self.spawn()
        threading.Thread(target=self.supervise, daemon=True).start()

    def spawn(self):
        """Start one `flask worker` process."""
        command = [str(VENV / "bin" / "flask"), "--app", "wsgi", "worker"]
        return subprocess.Popen(command, env=self.env, cwd=ROOT, start_new_session=True)

    def supervise(self):
        """Start the worker again a second after it exits on its own."""
        while True:
            code = self.process.wait()
            time.sleep(1)
            with self.lock:
                if self.stopped:
                    return
                say(f"The worker exited with {code}; starting it again (as the platform would)")
                self.process = self.spawn()

    def stop(self):
        """Stop the worker (SIGTERM, then SIGKILL after 30 s) and do not start it again."""
        with self.lock:
            self.stopped = True
        end_process(self.process, 30, "worker")


def start_worker(env, stack):
    """Start a worker beside the web server (restarted if it exits); it stops when we do."""
    say("Starting a worker (flask worker) for background jobs")
    stack.append(("worker", Worker(env).stop))


WEB_STOP_SECONDS = 35  # the front's own stop is 25 s; gunicorn follows it (PDEATHSIG)


def migrate(env, stop):
    """Apply the migrations as the release phase does; return whether they all applied."""
    say("Applying migrations (flask db upgrade)")
    command = [str(VENV / "bin" / "flask"), "--app", "wsgi", "db", "upgrade"]
    upgrade = subprocess.Popen(command, env=env, cwd=ROOT)
    code = stop.wait_for(upgrade)
    if code is None:  # a stop while migrating: each revision is its own transaction
        end_process(upgrade, 30, "migration")
    return code == 0


def serve_web(env, args, stop):
    """Run the Procfile's web command (the front before gunicorn) on 127.0.0.1, reloading edits."""
    env = {**env, "PORT": str(WEB_PORT), "WEB_FRONT_HOST": "127.0.0.1"}
    gunicorn = ["gunicorn", "wsgi:app", "--reload", *args]
    web = subprocess.Popen([str(VENV_PYTHON), "-m", "front", *gunicorn], env=env, cwd=ROOT)
    code = stop.wait_for(web)
    if code is None:
        # The front's own stop: it finishes what it serves, then stops gunicorn. (It has most
        # often had the same signal from the terminal already, and ignores a second one.)
        end_process(web, WEB_STOP_SECONDS, "web front")
        return 0
    return code


def run(args):
    """Start the services, apply migrations, a worker, and serve on http://127.0.0.1:5000."""
    stop = Stop()  # first: a signal from here on stops what was started, and only that
    env = {**{k: v for k, v in dotenv_values(ROOT / ".env").items() if v}, **os.environ}
    env.setdefault("FLASK_DEBUG", "1")  # a developer's run: debug on, as asked for here
    if not port_is_free(WEB_PORT):
        sys.exit(f"memo: port {WEB_PORT} is taken; stop the other server first")
    STATE.mkdir(exist_ok=True)
    stack = []
    steps = [start_database, start_object_store, start_mail_server]
    try:
        for step in steps:
            if stop.requested.is_set():
                return 0
            step(env, stack)
        if stop.requested.is_set() or not migrate(env, stop):
            return 0 if stop.requested.is_set() else 1
        start_worker(env, stack)
        if stop.requested.is_set():
            return 0
        say(f"Serving on http://127.0.0.1:{WEB_PORT} (Ctrl-C stops everything)")
        return serve_web(env, args, stop)
    finally:
        for name, stop_service in reversed(stack):
            say(f"Stopping {name}")
            stop_service()
