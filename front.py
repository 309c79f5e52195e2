"""The web process: nginx in front of gunicorn on a Unix socket, as the platform's nginx buildpack.

Usage (the Procfile's `web:` line): `python front.py gunicorn wsgi:app`.

nginx reads every request whole (headers within 10 s, a body at most 10 s between reads
and within its size limit) before gunicorn sees it, and takes every response whole from
gunicorn however slowly the client reads it. So a slow, stalled or vanished client holds
no gunicorn thread and no database connection, and a body cut short never reaches Flask.
See docs/security.md, "The request front".

This process checks the configuration first (a bad one stops here, with one line), renders
nginx.conf.template into a private temporary folder (which also holds the socket and nginx's
temporary files), starts gunicorn, then nginx, and stops both within 25 s of SIGTERM.

Stopping is this process's job alone. Debian's nginx takes SIGTERM as "drop every connection
now" (the platform's nginx buildpack builds nginx with SIGTERM and SIGQUIT swapped, so that
SIGTERM is its graceful stop), and a process manager or the release drill signals a whole
process group. So nginx and gunicorn run in process groups of their own, which a signal to
ours does not reach: on SIGTERM this process asks nginx to finish what it serves (SIGQUIT),
then stops gunicorn. Each child gets SIGTERM from the kernel if this process dies first
(PR_SET_PDEATHSIG), so a SIGKILL of the web process leaves nothing behind.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent
TEMPLATE = ROOT / "nginx.conf.template"
# The platform sends SIGKILL 30 s after SIGTERM: nginx gets most of it to finish what it
# serves (gunicorn serves those requests meanwhile), then gunicorn stops.
NGINX_STOP_SECONDS = 20
STOP_SECONDS = 25
STARTUP_SECONDS = 30


def nginx_program():
    """Return nginx's path (on PATH, else Debian's /usr/sbin/nginx), or None."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if os.access(found, os.X_OK) else None


# A photo upload's body is read only once the app says the session is live: strangers cannot
# hold the 4 upload slots. Debian's nginx has the module; a build without it serves without
# the check (the slots still bound disk and threads) and says so at startup.
UPLOAD_AUTH = """\
            auth_request /_front/signed-in;
            error_page 401 = @sign_in;"""
UPLOAD_AUTH_MISSING = "            # no auth_request module in this nginx: see front.py"


def has_auth_request(nginx):
    """Return whether this nginx was built with the auth_request module (`nginx -V`)."""
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=False)  # noqa: S603
    found = "--with-http_auth_request_module" in built.stderr + built.stdout
    if not found:
        print(
            "memo: this nginx has no auth_request module: photo uploads are read before "
            "the session is checked",
            file=sys.stderr,
        )
    return found


def app_server_command(args, socket_path):
    """Return the app server's command (gunicorn from this Python's folder), bound to the socket."""
    name, *rest = args
    local = Path(sys.executable).parent / name
    program = str(local) if local.exists() else name
    return [program, *rest, "--bind", f"unix:{socket_path}"]


def render_nginx_config(nginx, folder, socket_path, settings, environ):
    """Write nginx.conf for this dyno into `folder` and return its path."""
    hops = settings.TRUSTED_PROXY_HOPS
    values = {
        "folder": folder,
        "socket": socket_path,
        "host": environ.get("WEB_FRONT_HOST", "0.0.0.0"),  # noqa: S104 (the platform's router connects)
        "port": environ.get("PORT", "5000"),
        # nginx drops privileges to `nobody` when started as root; it needs our files.
        "user": "user root;" if os.geteuid() == 0 else "",
        # Behind a router its X-Forwarded-Proto is passed on; with none, nobody may claim https.
        "forwarded_proto": "$http_x_forwarded_proto" if hops else "$scheme",
        "upload_limit": f"{settings.MAX_CONTENT_LENGTH // 1024 + 64}k",
        "header_timeout": f"{settings.FRONT_HEADER_SECONDS}s",
        "body_timeout": f"{settings.FRONT_BODY_SECONDS}s",
        "upload_auth": UPLOAD_AUTH if has_auth_request(nginx) else UPLOAD_AUTH_MISSING,
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", str(value))
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


def app_environment(settings):
    """Return gunicorn's environment: nginx is one more proxy appending to X-Forwarded-For."""
    return {**os.environ, "TRUSTED_PROXY_HOPS": str(settings.TRUSTED_PROXY_HOPS + 1)}


PR_SET_PDEATHSIG = 1  # prctl(2)


def start_child(command, **kwargs):
    """Start nginx or gunicorn shielded from signals sent to front.py's process group."""
    parent = os.getpid()

    def shield():
        """In the child before exec: a process group of its own, SIGTERM when front.py dies."""
        os.setpgrp()
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # front.py died before prctl: nobody would stop this child
            os._exit(1)

    return subprocess.Popen(command, preexec_fn=shield, **kwargs)  # noqa: S603, PLW1509


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


# SIGHUP: the terminal of `./scripts/run` closed, which stops the web process as Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Stop(Exception):
    """SIGTERM, SIGINT or SIGHUP arrived: stop serving."""


def raise_stop(number, frame):
    for each in STOP_SIGNALS:  # once stopping, a second signal waits
        signal.signal(each, signal.SIG_IGN)
    raise Stop


def stop(front, app_server):
    """Let nginx finish what it serves, then stop gunicorn; kill what outlives STOP_SECONDS."""
    started = time.monotonic()
    if front is not None and front.poll() is None:
        front.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown
        wait(front, NGINX_STOP_SECONDS)
    if app_server.poll() is None:
        app_server.send_signal(signal.SIGTERM)
        wait(app_server, STOP_SECONDS - (time.monotonic() - started))
    for process in (front, app_server):
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def wait(process, seconds):
    """Wait up to `seconds` for `process` to exit."""
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=max(seconds, 0.1))


def serve(args, settings, folder):
    """Run gunicorn and nginx until a signal or until either exits; return the exit code."""
    nginx = nginx_program()
    if nginx is None:
        sys.exit("memo: nginx is not installed; ./scripts/run installs it (apt-get install nginx)")
    socket_path = folder / "app.sock"
    config_path = render_nginx_config(nginx, folder, socket_path, settings, os.environ)
    command = app_server_command(args, socket_path)  # the Procfile's, not a client's
    app_server = start_child(command, env=app_environment(settings))
    front = None
    try:
        failed = wait_for_socket(app_server, socket_path)
        if failed is not None:
            return failed
        front = start_child([nginx, "-p", str(folder), "-c", str(config_path)])
        while front.poll() is None and app_server.poll() is None:
            time.sleep(0.2)
        # One of them stopped on its own: the dyno is broken, let the platform restart it.
        return 1
    except Stop:
        return 0
    finally:
        for each in STOP_SIGNALS:  # once stopping, a second signal waits
            signal.signal(each, signal.SIG_IGN)
        stop(front, app_server)


def main():
    """Check the configuration, then serve until SIGTERM."""
    args = sys.argv[1:] or ["gunicorn", "wsgi:app"]
    try:
        settings = load_config()
    except ConfigError as error:
        sys.exit(f"memo: configuration error: {error}")
    for each in STOP_SIGNALS:
        signal.signal(each, raise_stop)
    folder = Path(tempfile.mkdtemp(prefix="memo-web-"))
    try:
        return serve(args, settings, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
