"""Debian's packages the tests use, installed by ./scripts/test while the first tests run.

pgbouncer for the pooler tests; Chromium's headless shell for the browser tests and the whole
browser for what the shell lacks (tests/browsers.py says which); a Korean font for their pages.
On a new machine apt-get takes longer than the Python installs (it downloads Chromium), so
the suite does not wait for it: the install holds a lock (`LOCK`) until it ends, and a test
that needs one of these packages waits for that lock first (`wait_for_install`).

Standard library only: scripts/dev.py runs it before the virtualenv exists
(`python devenv/debian.py`), and it runs itself as the process that installs and holds the
lock (`--hold`).
"""

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".dev").resolve()
# One lock for the machine, as dpkg has: a second checkout's tests wait for the first's install.
LOCK = Path("/run/lock" if os.path.isdir("/run/lock") else STATE) / "memo-debian-packages.lock"
LOG = STATE / "debian-packages.log"
# A test waits this long at most for an install (apt-get stuck on the network, say), then
# goes on without the package, saying so.
WAIT_SECONDS = 900
PACKAGES = {  # each by a file it installs
    "pgbouncer": Path("/usr/sbin/pgbouncer"),
    "chromium-headless-shell": Path("/usr/bin/chromium-headless-shell"),
    "chromium": Path("/usr/bin/chromium"),
}
KOREAN_FONT = "fonts-nanum"  # for the browser tests' Korean pages


def missing_packages():
    """Return the Debian packages the tests use that are not installed."""
    missing = [name for name, path in PACKAGES.items() if not path.exists()]
    fonts = ["fc-list", ":lang=ko"]
    korean = shutil.which("fc-list") and subprocess.run(fonts, capture_output=True, text=True)
    return missing if korean and korean.stdout.strip() else [*missing, KOREAN_FONT]


def may_install():
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def start_install():
    """Start installing the missing packages in the background, holding `LOCK` until done.

    Returns the packages being installed (none when nothing is missing, when apt-get may not
    run here, or when another install holds the lock already)."""
    missing = missing_packages()
    if not missing or not may_install():
        return []
    return missing if install_holding_the_lock(missing) else []


def install_holding_the_lock(packages, environ=None):
    """Start the process that installs `packages`, holding `LOCK` until it ends; return it,
    or None when another install holds the lock already."""
    for folder in {LOCK.parent, LOG.parent}:  # a fresh clone has no .dev yet
        folder.mkdir(parents=True, exist_ok=True)
    lock = os.open(LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # an install under way
        os.close(lock)
        return None
    # The lock is taken here, before any test can look, and handed to the process that
    # installs: it is released when that process ends (apt-get and dpkg do not inherit it).
    command = [sys.executable, __file__, "--hold", str(lock), *packages]
    try:
        # A session of its own: Ctrl-C in the terminal stops the tests, not dpkg halfway through.
        with LOG.open("w") as log:
            return subprocess.Popen(
                command,
                pass_fds=(lock,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=ROOT,
                env=environ,
                start_new_session=True,
            )
    finally:
        os.close(lock)


def wait_for_install(seconds=WAIT_SECONDS):
    """Wait until an install started by `start_install` has ended (at once if none is);
    return False if it is still under way after `seconds`."""
    if not LOCK.exists():
        return True
    deadline = time.monotonic() + seconds
    with LOCK.open() as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)  # given back as it closes
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)


def install(packages):
    """Install `packages` with apt-get (after refreshing a new machine's lists if needed)."""
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # A machine just booted may be running its own apt: wait for its lock, not fail.
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=120", "install", "-y", "-qq"]
    apt += ["--no-install-recommends", *packages]
    if subprocess.call(apt, env=environ, stdout=subprocess.DEVNULL) == 0:
        return 0
    subprocess.call(["apt-get", "update", "-qq"], env=environ)
    return subprocess.call(apt, env=environ, stdout=subprocess.DEVNULL)


def main(arguments):
    """`python devenv/debian.py`: start the install of what is missing, saying what it is.
    `--hold FD PACKAGE...`: install them, holding the lock open as FD until done."""
    if arguments[:1] == ["--hold"]:
        os.set_inheritable(int(arguments[1]), False)  # kept open (so held) until the end
        return install(arguments[2:])
    installing = start_install()
    if installing:
        log = LOG.relative_to(ROOT) if LOG.is_relative_to(ROOT) else LOG
        print(
            f"==> Installing {', '.join(installing)} for the pooler and browser tests (apt-get,"
            f" while the first tests run; its output in {log})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
