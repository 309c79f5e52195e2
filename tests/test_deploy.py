"""The deploy files: Procfile, runtime, and gunicorn serving ProductionConfig."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_procfile_runs_gunicorn_and_a_release_phase():
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert processes["release"].strip() == "flask db upgrade"
    assert processes["web"].strip().startswith("gunicorn ")


def test_runtime_and_python_version_agree():
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert runtime == "python-" + (ROOT / ".python-version").read_text().strip()
    assert runtime.startswith(f"python-{sys.version_info.major}.{sys.version_info.minor}.")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(app, postgres):
    """Start the Procfile's web command under ProductionConfig on a free port."""
    port = free_port()
    web = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)[
        "web"
    ].split()
    environ = {
        **os.environ,
        "APP_SETTINGS": "config.ProductionConfig",
        "SECRET_KEY": "a-test-secret-that-is-long-enough-0123456789",
        "DATABASE_URL": postgres.main_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    command = [str(Path(sys.executable).parent / web[0]), *web[1:]]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield base
    process.terminate()
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output


def test_gunicorn_serves_production_config(gunicorn):
    with urllib.request.urlopen(f"{gunicorn}/readyz", timeout=5) as response:
        assert response.status == 200
    request = urllib.request.Request(
        f"{gunicorn}/auth/login", headers={"X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
