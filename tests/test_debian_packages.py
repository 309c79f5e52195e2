"""The tests' Debian packages install while the first tests run (devenv/debian.py): a test
that needs one waits for the install to end, and the install's own programs never hold the
lock it waits on."""

import os
import time

from devenv import debian

FAKE_APT_GET = """#!/bin/sh
# Records the files it holds open, takes a second, says it is done, and succeeds.
ls -l /proc/$$/fd > "{record}"
sleep 1
echo installed >> "{record}"
"""


def test_a_test_waits_for_the_install_under_way_and_apt_get_holds_no_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(debian, "LOCK", tmp_path / "debian-packages.lock")
    monkeypatch.setattr(debian, "LOG", tmp_path / "new-clone" / ".dev" / "debian-packages.log")
    programs = tmp_path / "bin"
    programs.mkdir()
    record = tmp_path / "apt-get-fds.txt"
    apt_get = programs / "apt-get"
    apt_get.write_text(FAKE_APT_GET.format(record=record))
    apt_get.chmod(0o755)
    environ = {**os.environ, "PATH": f"{programs}{os.pathsep}{os.environ['PATH']}"}

    started = time.monotonic()
    installing = debian.install_holding_the_lock(["pgbouncer"], environ)
    assert os.getsid(installing.pid) != os.getsid(0)  # Ctrl-C here does not reach dpkg
    assert debian.install_holding_the_lock(["pgbouncer"], environ) is None  # one at a time
    assert not debian.wait_for_install(seconds=0.2)  # a stuck install is waited for so long
    assert debian.wait_for_install()
    waited = time.monotonic() - started

    assert record.read_text().endswith("installed\n")  # the wait ended after the install
    assert waited >= 1
    assert installing.wait(timeout=10) == 0
    assert str(debian.LOCK) not in record.read_text()  # apt-get (and dpkg) never held it
    again = time.monotonic()
    assert debian.wait_for_install()  # nothing under way: at once
    assert time.monotonic() - again < 0.5
