"""PostgreSQL's client programs (pg_dump, pg_restore), found to match the server they talk to.

pg_dump refuses a server of a newer major version than its own, and a dump is best restored
by the pg_restore beside the pg_dump that wrote it, so both come from one folder whose
programs are at least the server's major version. Looked for, in order: the folder given
(`--bin-dir`), the embedded PostgreSQL of development and the tests (pgserver ships its own
programs), every folder on PATH (a dyno's client tools), Debian's versioned folders.
"""

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

from sqlalchemy.engine import make_url

PROGRAMS = ("pg_dump", "pg_restore")
DEBIAN_FOLDERS = Path("/usr/lib/postgresql")
VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class ToolsMissing(Exception):
    """No folder holds pg_dump and pg_restore recent enough for the server."""


class Tools(NamedTuple):
    """The folder of pg_dump and pg_restore, and their major version."""

    folder: Path
    major: int

    def program(self, name):
        """Return the path of client program `name`."""
        return str(self.folder / name)


def candidate_folders(given=None):
    """Yield the folders that may hold the client programs, the likeliest first."""
    if given:
        yield Path(given)
        return
    # find_spec locates pgserver without importing it (production does not install it).
    embedded = importlib.util.find_spec("pgserver")
    if embedded and embedded.origin:
        yield Path(embedded.origin).parent / "pginstall" / "bin"
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder:
            yield Path(folder)
    yield from sorted(DEBIAN_FOLDERS.glob("*/bin"), reverse=True)


def major_version(program):
    """Return the major version a client program reports, or None if it does not run."""
    try:
        done = subprocess.run(  # noqa: S603  (a program of ours, a fixed argument)
            [str(program), "--version"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = VERSION.search(done.stdout)
    return int(found.group(1)) if found else None


def find_tools(server_major, given=None):
    """Return the first folder whose pg_dump and pg_restore are at least `server_major`."""
    looked = []
    for folder in candidate_folders(given):
        if not all((folder / name).is_file() for name in PROGRAMS):
            continue
        dump_major, restore_major = (major_version(folder / name) for name in PROGRAMS)
        looked.append(f"{folder} ({dump_major})")
        if dump_major and dump_major == restore_major and dump_major >= server_major:
            return Tools(folder, dump_major)
    raise ToolsMissing(
        f"no pg_dump and pg_restore of PostgreSQL {server_major} or newer found"
        f" (looked in {', '.join(looked) or 'PATH and ' + str(DEBIAN_FOLDERS)}); install"
        f" PostgreSQL {server_major}'s client programs or name their folder with --bin-dir"
    )


def libpq_target(sqlalchemy_uri):
    """Return (a libpq URL without the password, the environment that carries it) for `uri`.

    The password goes in PGPASSWORD, never on a command line that `ps` shows.
    """
    url = make_url(sqlalchemy_uri).set(drivername="postgresql")
    environment = {**os.environ}
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), environment


class ToolFailed(Exception):
    """A client program exited non-zero; the message is its first error line."""


def run(tools, name, arguments, environment, timeout):
    """Run one of the client programs; return its stderr, or raise ToolFailed."""
    try:
        done = subprocess.run(  # noqa: S603  (pg_dump/pg_restore; no shell, our arguments)
            [tools.program(name), *arguments],
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"{name} did not finish within {timeout} s") from None
    if done.returncode != 0:
        raise ToolFailed(first_error(done.stderr) or f"{name} exited {done.returncode}")
    return done.stderr


def first_error(stderr):
    """Return the first line of a client program's output that reports an error."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line or "FATAL" in line]
    return (errors or lines or [""])[0]
