"""The release drill (scripts/release_drill.py) between the last two migration heads; its router.

The drill also runs this release phase on a database made by each commit of main that added
a revision in the last 20 (release phases only). It takes one to two minutes on a shared
two-core machine. CI always runs it; set MEMO_SKIP_DRILL=1 to skip it locally (CI=true
overrides that).
"""

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devenv import ROOT
from devenv.releases import pins, requirements_python
from devenv.revisions import script_directory
from devenv.router import Router
from tests.databases import HEAD
from tests.webservers import Reply, serve_pages

SKIPPED = os.environ.get("MEMO_SKIP_DRILL") and os.environ.get("CI") != "true"


def get(connection, path="/"):
    connection.request("GET", path)
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_the_router_sends_requests_to_the_upstream_it_was_switched_to():
    with (
        serve_pages({"/": Reply(b"old")}) as old,
        serve_pages({"/": Reply(b"new")}) as new,
    ):
        router = Router(("127.0.0.1", old.port)).start()
        connection = http.client.HTTPConnection("127.0.0.1", router.server_address[1], timeout=5)
        try:
            assert get(connection) == (200, b"old")
            router.switch(("127.0.0.1", new.port))
            assert get(connection) == (200, b"new")  # the same kept-alive client connection
            assert old.requests[-1]["headers"]["X-Forwarded-For"] == "127.0.0.1"
        finally:
            connection.close()
            router.stop()


def test_the_router_answers_502_when_its_upstream_is_gone():
    with serve_pages({}) as gone:
        port = gone.port
    router = Router(("127.0.0.1", port)).start()
    connection = http.client.HTTPConnection("127.0.0.1", router.server_address[1], timeout=5)
    try:
        status, body = get(connection)
    finally:
        connection.close()
        router.stop()
    assert status == 502
    assert body.startswith(b"router: ConnectionRefusedError")


def test_a_release_whose_pins_differ_only_in_comments_runs_on_this_checkouts_virtualenv(tmp_path):
    pinned = (ROOT / "requirements.txt").read_text()
    (tmp_path / "requirements.txt").write_text(re.sub(r"  # .*", "  # reworded", pinned))
    assert requirements_python(tmp_path) == (Path(sys.executable).parent, "this checkout's .venv")
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "requirements.txt").write_text(pinned.replace("==", "==0.", 1))
    assert pins(moved / "requirements.txt") != pins(ROOT / "requirements.txt")


def older_revisions():
    """Return the revisions below this code's head."""
    scripts = script_directory().iterate_revisions(HEAD, "base")
    return {script.revision for script in scripts} - {HEAD}


@pytest.mark.skipif(SKIPPED, reason="MEMO_SKIP_DRILL is set (CI runs the drill)")
@pytest.mark.serial  # load-bound: ./scripts/test runs it alone
def test_a_release_between_the_last_two_heads_fails_no_request_and_rolls_back():
    # 3 s of load before and after the switch (the command's default is 6): about a hundred
    # requests a phase, and every deploy and rollback step under load all the same.
    result = subprocess.run(
        [sys.executable, "scripts/release_drill.py", "--seconds", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    old = re.search(r"old release: \w+ \(revision (\w+)\)", output)
    assert old and old.group(1) in older_revisions(), output
    assert re.search(rf"new release: \w+ \(revision {HEAD}\)", output), output
    assert "failures by kind: none" in output
    written = re.search(
        r"Acknowledged writes: (\d+) notes confirmed, (\d+) in the database", output
    )
    assert written and written.group(1) == written.group(2) and int(written.group(1)) > 0
    assert "Sessions made on the old release: 4 of 4 accepted by the new release" in output
    assert re.search(r"Old release phase on the new schema: `.*` exited 0", output)
    assert "Load: old release serving again" in output
    older = re.search(r"Older releases: (\d+) commits of main added a revision", output)
    assert older, output
    outcomes = re.findall(
        r"older-(\w+): (?:the new release phase (upgraded|refused) its database"
        r"|its own release phase (fails))",
        output,
    )
    assert len(outcomes) == int(older.group(1)), output
    assert re.search(r"Release drill \w+ -> \w+ passed", output)
