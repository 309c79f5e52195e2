"""Releases checked out from git, each with its virtualenv: run as dynos, or one command at a time.

scripts/release_drill.py rehearses a deploy with them, and scripts/land.py checks a merge
(see docs/releases.md).
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
from devenv.history import git
from devenv.liveserver import LOCAL_MAIL_SETTINGS, free_port
from devenv.revisions import revisions_at
from devenv.services import ObjectStore

SECRET_KEY = "release-drill-secret-shared-by-both-releases-0123456789"  # noqa: S105
# An older release's virtualenv, by the digest of its requirements: kept in the user's cache
# folder (as pre-commit keeps its hooks' environments), so a new clone does not pay its
# install again.
COMMENT = re.compile(r"(^|\s)#.*$")  # pip's rule: a comment starts at a # after a space
VENV_CACHE = Path(platformdirs.user_cache_dir("memo")) / "release-venvs"
# What a release's processes need; the last file names the others (`-r`) and is installed.
SERVING = ("requirements.txt",)
STARTUP_SECONDS = 60
STOP_SECONDS = 30  # the platform's SIGKILL comes 30 s after SIGTERM


def revision_heads(commit):
    """Return {head revision: its file} at `commit`: one head, unless a branch needs relinking."""
    revisions = revisions_at(commit, git)
    files = {revision: path for path, (revision, _) in revisions.items()}
    parents = set()
    for _, parent in revisions.values():
        parents.update(parent if isinstance(parent, tuple) else [parent])
    return {head: files[head] for head in sorted(set(files) - parents)}


def default_from(to):
    """Return the commit just before the newest revision was added (on the first-parent line).

    Walked by hand: `git log --first-parent -- path` may follow a merged branch's history.
    """
    (path,) = revision_heads(to).values()
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


def pins(path):
    """Return what pip installs from a requirements file: its lines without comments or blank
    lines (a release that only reworded a pin's comment shares this checkout's virtualenv)."""
    lines = (COMMENT.sub("", line).strip() for line in path.read_text().splitlines())
    return "".join(f"{line}\n" for line in lines if line).encode()


def requirements_python(folder, names=SERVING):
    """Return the bin folder of a virtualenv with exactly `folder`'s pinned requirements."""
    files = [folder / name for name in names if (folder / name).exists()]
    digest = hashlib.sha256(b"".join(pins(path) for path in files)).hexdigest()
    own = hashlib.sha256(b"".join(pins(ROOT / path.name) for path in files)).hexdigest()
    if digest == own:  # this checkout's .venv has them (and the dev tools besides)
        return Path(sys.executable).parent, "this checkout's .venv"
    cached = VENV_CACHE / digest[:16]
    if (cached / ".complete").exists():
        return cached / "bin", f"cached virtualenv {cached}"
    shutil.rmtree(cached, ignore_errors=True)
    venv.create(cached, with_pip=True)
    pip = [str(cached / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, "-q", "-r", str(files[-1])], check=True)
    (cached / ".complete").touch()
    return cached / "bin", f"new virtualenv {cached}"


@dataclass
class Release:
    """One release checked out from git: its folder, virtualenv, Procfile and head revisions."""

    name: str
    commit: str
    folder: Path
    bin: Path
    procfile: dict
    heads: tuple

    @classmethod
    def build(cls, name, commit, workdir, bin_folder=None, requirements=SERVING):
        """Check `commit` out into a worktree and find it a virtualenv (or use `bin_folder`)."""
        sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
        folder = workdir / name
        git("worktree", "add", "--detach", str(folder), sha)
        lines = (folder / "Procfile").read_text().splitlines()
        procfile = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines if line)}
        if bin_folder is None:
            bin_folder, how = requirements_python(folder, requirements)
        else:
            how = "the new release's virtualenv (release phase only)"
        heads = tuple(revision_heads(sha))
        revisions, processes = ", ".join(heads), ", ".join(procfile)
        say(f"{name} release: {sha[:10]} (revision {revisions}), {how}; Procfile: {processes}")
        return cls(name, sha, folder, bin_folder, procfile, heads)

    @property
    def logs(self):
        """Return the folder of this release's logs (the one its worktree is in)."""
        return self.folder.parent

    def environment(self, **variables):
        """Return the environment of a process of this release: its code and virtualenv first."""
        environ = {
            **os.environ,
            "VIRTUAL_ENV": str(self.bin.parent),
            # This release's code first: the virtualenv's .pth may name another checkout's.
            "PYTHONPATH": str(self.folder),
            **variables,
        }
        environ["PATH"] = f"{self.bin}{os.pathsep}{environ.get('PATH', '')}"
        return environ

    def dyno_environment(self, services, **extra):
        """Return a production dyno's environment for this release."""
        settings = {
            **LOCAL_MAIL_SETTINGS,
            **os.environ,
            **services.store.environment(),
            "APP_SETTINGS": "config.ProductionConfig",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": services.database_url,
            "WEB_CONCURRENCY": "2",
            # The drill's visitors save notes faster than a person (issue 23's 30 a minute).
            "NOTE_WRITES_PER_MINUTE": "100000",
            **extra,
        }
        return self.environment(**settings)

    def start(self, process, services):
        """Start a Procfile process as the platform starts a dyno (devenv/dyno.py); return it."""
        port = free_port()
        log = self.logs / f"{self.name}-{process}-{port}.log"
        environ = self.dyno_environment(services, PORT=str(port))
        environ["PATH"] = dyno_path(self.bin)
        started = Dyno(f"{process}.1", self.procfile[process], self.folder, environ, log).start()
        return Process(f"{self.name} {process}", started, port, log)

    def run(self, command, environ, timeout=300):
        """Run a shell command in the release's folder; return (exit code, seconds, lines)."""
        log = self.logs / f"{self.name}-{time.monotonic_ns()}.log"
        started = time.monotonic()
        with log.open("wb") as output:
            result = subprocess.run(
                ["bash", "-c", command],
                cwd=self.folder,
                env=environ,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        lines = log.read_text(errors="replace").strip().splitlines() or [""]
        return result.returncode, time.monotonic() - started, lines

    def release_phase(self, services):
        """Run the Procfile's release command; return (exit code, seconds, last line)."""
        code, seconds, lines = self.release_phase_output(services)
        return code, seconds, lines[-1].rpartition("] ")[2]

    def release_phase_output(self, services):
        """Run the Procfile's release command as a dyno; return (exit code, seconds, lines)."""
        return self.run(f"exec {self.procfile['release']}", self.dyno_environment(services))


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
