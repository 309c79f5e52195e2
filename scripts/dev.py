#!/usr/bin/env python3
"""Set up Memo and run, test, benchmark or release-drill it: `scripts/dev.py run|test|bench|drill`.

Needs only Python 3.11+. It creates `.venv`, installs the pinned requirements
(again only when they change), then starts what is missing: an embedded
PostgreSQL (data kept in `.dev/postgres`) and an S3-compatible object store
(objects kept in `.dev/objects`). Ctrl-C stops everything it started.
"""

import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STATE = ROOT / ".dev"
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
WEB_PORT = int(os.environ.get("LOCAL_WEB_PORT", "5000"))
OBJECT_STORE_PORT = int(os.environ.get("LOCAL_S3_PORT", "9000"))


def say(message):
    """Print a progress line that stands out from the tools' own output."""
    print(f"==> {message}", flush=True)


def requirements_digest():
    """Return a digest of the requirement files, to know when to reinstall."""
    digest = hashlib.sha256()
    for path in REQUIREMENTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_virtualenv():
    """Create `.venv` and install the pinned requirements when they changed."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this check runs before the venv exists)
        sys.exit(f"memo: Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not VENV_PYTHON.exists():
        say(f"Creating a virtualenv in {VENV.relative_to(ROOT)}")
        venv.create(VENV, with_pip=True)
    stamp = VENV / ".requirements.sha256"
    wanted = requirements_digest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say("Installing pinned requirements (a minute or two the first time)")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, "--progress-bar", "off", "-r", str(REQUIREMENTS[1])], check=True)
    stamp.write_text(wanted)


def port_is_free(port):
    """Return whether nothing listens on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def run_flask(*args, env):
    """Run a `flask` command in the virtualenv and return its exit code."""
    return subprocess.call([str(VENV / "bin" / "flask"), "--app", "wsgi", *args], env=env, cwd=ROOT)


def start_database(env, stack):
    """Start the embedded PostgreSQL unless DATABASE_URL names one."""
    if env.get("DATABASE_URL"):
        say("Using the database named by DATABASE_URL")
        return
    from devenv.services import ensure_database, start_postgres, stop_postgres

    say(f"Starting PostgreSQL (data in {STATE.relative_to(ROOT)}/postgres)")
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
    from devenv.services import ObjectStore

    store = ObjectStore("memo-local", port=OBJECT_STORE_PORT).start()
    store.allow_uploads_from(f"http://127.0.0.1:{WEB_PORT}", f"http://localhost:{WEB_PORT}")
    saved = STATE / "objects"
    restored = store.restore(saved) if saved.exists() else 0
    say(f"Object store at {store.endpoint_url} (bucket memo-local, {restored} objects restored)")
    env.update(store.environment())

    def save_and_stop():
        say(f"Saved {store.save(saved)} objects to {saved.relative_to(ROOT)}")
        store.stop()

    stack.append(("object store", save_and_stop))


def start_worker(env, stack):
    """Start one `flask worker` beside the web server; it stops when the server does.

    In a session of its own, so that Ctrl-C reaches it once, from here, as SIGTERM: the
    stop the platform sends, which lets running jobs finish.
    """
    say("Starting a worker (flask worker) for background jobs")
    worker = subprocess.Popen(
        [str(VENV / "bin" / "flask"), "--app", "wsgi", "worker"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )

    def stop():
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()

    stack.append(("worker", stop))


def run(args):
    """Start the services, apply migrations, a worker, and serve on http://127.0.0.1:5000."""
    from dotenv import dotenv_values

    env = {**{k: v for k, v in dotenv_values(ROOT / ".env").items() if v}, **os.environ}
    if not port_is_free(WEB_PORT):
        sys.exit(f"memo: port {WEB_PORT} is taken; stop the other server first")
    STATE.mkdir(exist_ok=True)
    stack = []
    try:
        start_database(env, stack)
        start_object_store(env, stack)
        say("Applying migrations (flask db upgrade)")
        if run_flask("db", "upgrade", env=env) != 0:
            return 1
        start_worker(env, stack)
        say(f"Serving on http://127.0.0.1:{WEB_PORT} (Ctrl-C stops everything)")
        return run_flask(
            "run", "--debug", "--host", "127.0.0.1", "--port", str(WEB_PORT), *args, env=env
        )
    except KeyboardInterrupt:
        return 0
    finally:
        for name, stop in reversed(stack):
            say(f"Stopping {name}")
            stop()


def test(args):
    """Lint, then run the whole test suite against real services."""
    bin_dir = VENV / "bin"
    say("Linting (ruff check, ruff format --check)")
    lint = subprocess.call([str(bin_dir / "ruff"), "check", "."], cwd=ROOT)
    lint |= subprocess.call([str(bin_dir / "ruff"), "format", "--check", "."], cwd=ROOT)
    if lint:
        say("Lint failed: run `.venv/bin/ruff check --fix . && .venv/bin/ruff format .`")
        return 1
    say("Linting each migration's SQL with squawk (scripts/lint_migrations.py)")
    if subprocess.call([str(bin_dir / "python"), "scripts/lint_migrations.py"], cwd=ROOT):
        return 1
    say("Running the test suite (embedded PostgreSQL unless TEST_DATABASE_URL is set)")
    return subprocess.call([str(bin_dir / "pytest"), *args], cwd=ROOT)


def bench(args):
    """Benchmark the pages under load beside a bare Flask baseline (bench/web.py)."""
    return subprocess.call([str(VENV_PYTHON), "bench/web.py", *args], cwd=ROOT)


def drill(args):
    """Rehearse a release under load between two commits (scripts/release_drill.py)."""
    return subprocess.call([str(VENV_PYTHON), "scripts/release_drill.py", *args], cwd=ROOT)


COMMANDS = {"run": run, "test": test, "bench": bench, "drill": drill}


def main():
    """Bootstrap the virtualenv, then run the command inside it."""
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(
            "usage: scripts/dev.py run|test|bench|drill [arguments for flask run, pytest, ...]"
        )
    if Path(sys.prefix).resolve() != VENV.resolve():
        ensure_virtualenv()
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    sys.path.insert(0, str(ROOT))
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
