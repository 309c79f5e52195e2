"""The deploy files: Procfile, runtime, and gunicorn serving ProductionConfig."""

import sys
import urllib.request

from devenv import ROOT, services
from devenv.liveserver import release_phase
from tests.databases import HEAD


def test_the_procfiles_release_command_brings_an_empty_database_to_this_codes_head(
    postgres, object_store
):
    # The web and worker lines are started as the platform starts them by every live test
    # (devenv/liveserver.py, tests/workers.py); this runs the release line the same way.
    url = postgres.create_scratch_database()
    release_phase(url, object_store.environment())
    assert services.query(url, "SELECT version_num FROM alembic_version") == [(HEAD,)]


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
