"""The deploy files: Procfile, runtime, and gunicorn serving ProductionConfig."""

import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_procfile_runs_gunicorn_and_a_release_phase():
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert processes["release"].strip() == "flask db upgrade"
    assert processes["web"].strip() == "python front.py gunicorn wsgi:app"  # nginx, then gunicorn
    assert processes["worker"].strip() == "flask worker"


def test_runtime_and_python_version_agree():
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert runtime == "python-" + (ROOT / ".python-version").read_text().strip()
    assert runtime.startswith(f"python-{sys.version_info.major}.{sys.version_info.minor}.")


def test_gunicorn_serves_production_config(live_server):
    gunicorn = live_server()  # the Procfile's web command under ProductionConfig
    with urllib.request.urlopen(f"{gunicorn.url}/readyz", timeout=5) as response:
        assert response.status == 200
    request = urllib.request.Request(
        f"{gunicorn.url}/auth/login", headers={"X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert gunicorn.stop() == 0, gunicorn.log()
