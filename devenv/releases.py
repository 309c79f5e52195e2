"""The two releases of a release drill: each checked out from git with its virtualenv, run as dynos.

scripts/release_drill.py rehearses a deploy with them (see docs/releases.md).
"""

import hashlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from devenv import ROOT, dyno, say
from devenv.dyno import Dyno, dyno_path
from devenv.liveserver import LOCAL_MAIL_SETTINGS, free_port
from devenv.services import ObjectStore

SECRET_KEY = "release-drill-secret-shared-by-both-releases-0123456789"  # noqa: S105
# An older release's virtualenv, by the digest of its requirements: kept in the user's cache
# folder (as pre-commit keeps its hooks' environments), so a new clone does not pay its
# install again.
VENV_CACHE = Path(platformdirs.user_cache_dir("memo")) / "drill-venvs"
STARTUP_SECONDS = 60
STOP_SECONDS = 30  # the platform's SIGKILL comes 30 s after SIGTERM


def git(*args):
    """Run git in the repository and return its output."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def newest_revision_file(commit):
    """Return the path of the head revision's file at `commit`."""
    revisions, parents = {}, set()
    for path in git("ls-tree", "--name-only", commit, "migrations/versions/").splitlines():
        if not path.endswith(".py"):
            continue
        source = git("show", f"{commit}:{path}")
        revision = re.search(r"^revision = [\"']([^\"']+)", source, re.MULTILINE).group(1)
        parent = re.search(r"^down_revision = (.+)$", source, re.MULTILINE).group(1)
        revisions[revision] = path
        parents.add(parent.strip("\"'"))
    (head,) = set(revisions) - parents
    return head, revisions[head]


def default_from(to):
    """Return the commit just before the newest revision was added (on the first-parent line).

    Walked by hand: `git log --first-parent -- path` may follow a merged branch's history.
    """
    _, path = newest_revision_file(to)
    added = None
    for commit in git("rev-list", "--first-parent", to).split():
        if not has_file(commit, path):
            break
        added = commit
    return f"{added}^1"


def has_file(commit, path):
    """Return whether `path` exists in `commit`."""
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}:{path}"], cwd=ROOT, capture_output=True, check=False
    )
    return found.returncode == 0


def requirements_python(requirements):
    """Return the bin folder of a virtualenv with exactly these pinned requirements."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    own = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if digest == own:  # this checkout's .venv has them (and the dev tools besides)
        return Path(sys.executable).parent, "this checkout's .venv"
    folder = VENV_CACHE / digest[:16]
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        venv.create(folder, with_pip=True)
        pip = [
            str(folder / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, "-q", "-r", str(requirements)], check=True)
        (folder / ".complete").touch()
        return folder / "bin", f"new virtualenv {folder}"
    return folder / "bin", f"cached virtualenv {folder}"


@dataclass
class Release:
    """One release checked out from git: its folder, virtualenv and Procfile."""

    name: str
    commit: str
    folder: Path
    bin: Path
    procfile: dict
    revision: str

    @classmethod
    def build(cls, name, commit, workdir, bin_folder=None):
        """Check `commit` out into a worktree and find it a virtualenv (or use `bin_folder`)."""
        sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
        folder = workdir / name
        git("worktree", "add", "--detach", str(folder), sha)
        lines = (folder / "Procfile").read_text().splitlines()
        procfile = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines if line)}
        if bin_folder is None:
            bin_folder, how = requirements_python(folder / "requirements.txt")
        else:
            how = "the new release's virtualenv (release phase only)"
        revision, _ = newest_revision_file(sha)
        processes = ", ".join(procfile)
        say(f"{name} release: {sha[:10]} (revision {revision}), {how}; Procfile: {processes}")
        return cls(name, sha, folder, bin_folder, procfile, revision)

    def environment(self, services, **extra):
        """Return a production dyno's environment for this release, its virtualenv first on PATH."""
        variables = {
            **LOCAL_MAIL_SETTINGS,
            **os.environ,
            **services.store.environment(),
            "APP_SETTINGS": "config.ProductionConfig",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": services.database_url,
            "WEB_CONCURRENCY": "2",
            # The drill's visitors save notes faster than a person (issue 23's 30 a minute).
            "NOTE_WRITES_PER_MINUTE": "100000",
            "VIRTUAL_ENV": str(self.bin.parent),
            **extra,
        }
        variables["PATH"] = f"{self.bin}{os.pathsep}{variables.get('PATH', '')}"
        return variables

    def start(self, process, services, log_folder):
        """Start a Procfile process as the platform starts a dyno (devenv/dyno.py); return it."""
        port = free_port()
        log = log_folder / f"{self.name}-{process}-{port}.log"
        environ = self.environment(services, PORT=str(port))
        environ["PATH"] = dyno_path(self.bin)
        started = Dyno(f"{process}.1", self.procfile[process], self.folder, environ, log).start()
        return Process(f"{self.name} {process}", started, port, log)

    def release_phase(self, services, log_folder):
        """Run the Procfile's release command; return (exit code, seconds, last line)."""
        code, seconds, lines = self.release_phase_output(services, log_folder)
        return code, seconds, lines[-1].rpartition("] ")[2]

    def release_phase_output(self, services, log_folder):
        """Run the Procfile's release command; return (exit code, seconds, output lines)."""
        log = log_folder / f"{self.name}-release-{time.monotonic_ns()}.log"
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-c", f"exec {self.procfile['release']}"],
            cwd=self.folder,
            env=self.environment(services),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            timeout=300,
        )
        lines = log.read_text(errors="replace").strip().splitlines() or [""]
        return result.returncode, time.monotonic() - started, lines


@dataclass
class Process:
    """A process of one release, run as a dyno."""

    name: str
    dyno: Dyno
    port: int
    log: Path

    @property
    def popen(self):
        return self.dyno.popen

    def wait_until_ready(self):
        """Wait until /readyz answers 200 on this web process."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise DrillError(f"{self.name} exited with {self.popen.returncode}: see {self.log}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            with suppress(OSError, http.client.HTTPException):
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return
            connection.close()
            time.sleep(0.2)
        raise DrillError(f"{self.name} was not ready in {STARTUP_SECONDS} s: see {self.log}")

    def terminate(self):
        """Send SIGTERM to every process of the dyno, as the platform does to one it replaces."""
        self.dyno.terminate()

    def wait(self):
        """Wait until every process of the dyno is gone (SIGKILL after 30 s); (code, seconds)."""
        started = time.monotonic()
        if dyno.wait_gone(self.dyno.mark, STOP_SECONDS):
            code = self.popen.wait(timeout=10)
        else:
            self.kill()
            code = "killed after 30 s"
        return code, time.monotonic() - started

    def kill(self):
        """Kill whatever is left of the dyno."""
        self.dyno.kill()


class DrillError(Exception):
    """A step of the drill could not be done; the message says which and why."""


@dataclass
class Services:
    """The one database and object store both releases use."""

    database_url: str
    store: ObjectStore
