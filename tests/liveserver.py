"""The app served by gunicorn exactly as the Procfile runs it, and people who use it over HTTP.

A LiveServer is the Procfile's `web` command under ProductionConfig (WEB_CONCURRENCY workers of
gthread, the real gunicorn.conf.py) on a free port, in its own process group so that nothing it
starts outlives the test. It serves plain HTTP on 127.0.0.1 with no proxy in front: browsers
keep and send `Secure` cookies for 127.0.0.1 and localhost (potentially trustworthy origins), so
production's cookie settings work unchanged, and without `X-Forwarded-Proto: https` Flask-WTF's
HTTPS-only Referer check stays off, as it would for any plain-HTTP request.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "a-test-secret-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NOTE_LOCATION = re.compile(r"^/notes/(\d+)$")


def free_port():
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_command(process="web"):
    """Return the Procfile's command for `process`, its program taken from this virtualenv."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    processes = dict(line.split(":", 1) for line in lines if line.strip())
    program, *args = processes[process].split()
    return [str(Path(sys.executable).parent / program), *args]


def production_environment(database_url, store_environment, **environ):
    """Return the environment of a production dyno using this database and object store."""
    return {
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


class LiveServer:
    """gunicorn serving Memo under ProductionConfig; its output goes to `log_path`."""

    def __init__(self, database_url, store_environment, log_path, workers=2, **environ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.workers = workers
        self.environ = production_environment(
            database_url,
            store_environment,
            PORT=str(self.port),
            WEB_CONCURRENCY=str(workers),
            **environ,
        )
        self.process = None
        self.terminated = False

    def start(self, timeout=30):
        """Start gunicorn and wait until every worker is up and one answers /healthz."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                procfile_command(),
                cwd=ROOT,
                env=self.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            if len(self.worker_pids()) == self.workers and self.answers("/healthz"):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not come up in {timeout} s:\n{self.log()}")

    def answers(self, path):
        """Return whether GET `path` answers 200 right now."""
        visitor = Visitor(self.url, timeout=2)
        try:
            return visitor.get(path).status == 200
        except OSError:
            return False
        finally:
            visitor.close()

    def worker_pids(self):
        """Return the process ids of the live workers (the master's children)."""
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return set()
        return {child.pid for child in children if child.status() != psutil.STATUS_ZOMBIE}

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
        """Ask gunicorn to stop as the platform does (SIGTERM, once), without waiting."""
        if self.process is not None and self.process.poll() is None and not self.terminated:
            self.process.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self):
        """Stop gunicorn (SIGTERM), kill whatever is left after 30 s, and return its exit code."""
        if self.process is None:
            return None
        self.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=10)


@dataclass
class Response:
    """What a visitor got back: status, headers and body, and when it was asked and answered."""

    status: int
    headers: http.client.HTTPMessage
    text: str
    started: float
    ended: float

    @property
    def location(self):
        """Return the path a redirect points to (the router's host stripped)."""
        return urlsplit(self.headers.get("Location", "")).path


class Visitor:
    """One person's browser at the HTTP level: a kept-alive connection, cookies, the CSRF token."""

    def __init__(self, base_url, timeout=30, cookies=None):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.connection = None
        self.cookies = {} if cookies is None else cookies
        self.token = None
        self.retries = 0

    def request(self, method, path, body=None, content_type=None):
        """Send one request and return its Response."""
        headers = {"Host": f"{self.host}:{self.port}", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        # Like a browser, a request that finds its kept-alive connection closed by the server
        # before any answer (a worker recycled, say) is sent once more on a new connection.
        for attempt in range(2):
            reused = self.connection is not None
            if not reused:
                self.connection = http.client.HTTPConnection(self.host, self.port, self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                data = answer.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 0:
                    self.retries += 1
                    continue
                raise
            except BaseException:
                self.close()
                raise
            break
        if answer.will_close:
            self.close()
        self.keep_cookies(answer.headers.get_all("Set-Cookie") or [])
        text = data.decode("utf-8", errors="replace")
        match = CSRF_TOKEN.search(text)
        if match:
            self.token = match.group(1)
        return Response(answer.status, answer.headers, text, started, time.monotonic())

    def keep_cookies(self, set_cookies):
        """Store cookies the server set and forget those it expired."""
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form=None):
        """POST a form with the CSRF token of the last page (fetched from a form if none yet)."""
        if self.token is None:
            self.get("/auth/login")
        body = urlencode({"csrf_token": self.token, **(form or {})})
        return self.request("POST", path, body, "application/x-www-form-urlencoded")

    def post_file(self, path, name, filename, data, content_type):
        """POST one file as multipart/form-data, with the CSRF token of the last page."""
        boundary = uuid.uuid4().hex
        token_part = f'Content-Disposition: form-data; name="csrf_token"\r\n\r\n{self.token}'
        file_part = (
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts = [
            f"--{boundary}\r\n{token_part}\r\n--{boundary}\r\n{file_part}".encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        return self.request(
            "POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}"
        )

    def submit(self, path, form):
        """Open the form at `path` and submit it, as a person would."""
        self.get(path)
        return self.post(path, form)

    def signup(self, email, nickname, password=PASSWORD):
        """Sign up, then sign in as the signup page says to; return the last Response."""
        form = {"email": email, "nickname": nickname, "password": password}
        response = self.submit("/auth/signup", {**form, "password_confirm": password})
        if response.status != 302:
            return response
        response = self.submit("/auth/login", {"email": email, "password": password})
        if response.status == 302:  # on to the new session's first page, and its CSRF token
            self.token = None
            self.get(response.location)
        return response

    def create_note(self, title, content=""):
        """Write a note; return the Response and the id the server confirmed (or None)."""
        response = self.submit("/notes/new", {"title": title, "content": content})
        match = NOTE_LOCATION.match(response.location) if response.status == 302 else None
        return response, int(match.group(1)) if match else None

    def upload_photo(self, data):
        """Choose `data` (a JPEG) in my page's photo form and submit it."""
        self.get("/mypage")
        return self.post_file("/mypage/photo", "photo", "photo.jpg", data, "image/jpeg")
