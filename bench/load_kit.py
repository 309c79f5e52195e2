"""What the end-to-end benchmark (bench/end_to_end.py) stands on: the machine's and the commit's
names, Memo's web process as the Procfile starts it, a checkout of an older commit to serve
beside this one, and wrk (Debian's package)."""

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from devenv import ROOT, say
from devenv.history import git
from devenv.liveserver import Front

RESULTS = ROOT / "bench" / "results"
WRK_THREADS = 2
WARM_UP_SECONDS = 3


def machine():
    """Describe the machine: CPU model, cores, memory, OS."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, {system}"


def commit():
    """Return the current commit, marked `-dirty` when the work tree has changes."""
    run = {"cwd": ROOT, "capture_output": True, "text": True}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], **run).stdout.strip()
    return f"{head}-dirty" if dirty else head or "unknown"


def memo_server(environ, folder, name="memo", options=""):
    """Return Memo's web process as the Procfile starts it, bound to loopback only."""
    workers = int(environ["WEB_CONCURRENCY"])
    return Front(environ, folder / f"{name}.log", workers, options=options)


def checkout_of(wanted_commit):
    """Return a checkout of `wanted_commit`: this one, or a detached worktree under .dev/."""
    head = git("rev-parse", "HEAD")
    wanted = git("rev-parse", f"{wanted_commit}^{{commit}}")
    if wanted == head:
        return ROOT, head
    folder = ROOT / ".dev" / f"bench-{wanted[:7]}"
    if not folder.exists():
        git("worktree", "add", "--detach", str(folder), wanted)
    return folder, wanted


def ensure_wrk():
    """Return the path of wrk, installing Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("Installing the load generator: apt-get install wrk")
        environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        # A machine whose package lists were never fetched knows no wrk yet.
        if subprocess.call(install, env=environ) != 0:
            subprocess.call(["apt-get", "update", "-q"], env=environ)
            subprocess.call(install, env=environ)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "memo bench: the load generator wrk is missing. Install it (Debian/Ubuntu: "
        "`sudo apt-get install wrk`; macOS: `brew install wrk`), then run ./scripts/bench again."
    )
