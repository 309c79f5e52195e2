#!/usr/bin/env python3
"""Set up Memo and run, test, benchmark, release-drill or land it: `scripts/dev.py run|test|...`.

`scripts/dev.py translations extract|update|compile|init LANG` keeps the catalogs in
app/translations (docs/i18n.md).

Needs only Python 3.11+. It creates `.venv`, installs the pinned requirements
(again only when they change), then starts what is missing: an embedded
PostgreSQL (data kept in `.dev/postgres`), an S3-compatible object store
(objects kept in `.dev/objects`) and an SMTP server (each message kept in `.dev/mail`,
shown at /dev/inbox). Ctrl-C, or closing the terminal, stops everything it started.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import venv
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
# Where ./scripts/run keeps its data (the embedded PostgreSQL's, the objects, the mail).
STATE = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".dev").resolve()
# ./scripts/run installs the app's pins and its local servers'; the other commands add the
# test and bench tools (each file includes the one before it).
LOCAL_REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-local.txt"]
DEV_REQUIREMENTS = [*LOCAL_REQUIREMENTS, ROOT / "requirements-dev.txt"]
# The installer of the pins: the same packages as pip in a fifth of the time (a new .venv here:
# 8.7 s against 40.5 s, 15 CPU-s against 40, the bytecode written on both cores). pip itself
# installs it, and installs the pins where uv cannot reach the index (pip's own configuration,
# such as an index of a machine's own, is pip's alone).
UV = "uv==0.13.9"


def say(message):
    """Print a progress line that stands out from the tools' own output."""
    # Where the terminal or the pipe's reader is gone, stopping goes on without the line.
    with suppress(OSError):
        print(f"==> {message}", flush=True)


def requirements_digest(paths):
    """Return a digest of the requirement files, to know when to reinstall."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def install_pinned(folder, requirements, message, log=None, covered_by=None):
    """Make the virtualenv `folder` hold `requirements[-1]` (which may include the others).

    It is created when missing, and pip runs only when the files changed since the last
    install that succeeded (their digest is stamped in the virtualenv), unless the stamp is
    that of `covered_by`, a larger set that includes these. Return pip's exit code.
    """
    if not (folder / "bin" / "python").exists():
        say(f"Creating a virtualenv in {folder.relative_to(ROOT)}")
        # Linked to this Python, as `python -m venv` does: a copy of the interpreter is a file
        # open for writing while the other virtualenv's thread starts a process, which keeps
        # it open until it runs its program, and this one's ensurepip then fails with "Text
        # file busy" (ETXTBSY), as a fresh clone's `./scripts/test` once did.
        venv.create(folder, with_pip=True, symlinks=True)
    stamp = folder / ".requirements.sha256"
    wanted = requirements_digest(requirements)
    current = stamp.read_text() if stamp.exists() else None
    # No stamp means no install yet (and `covered_by` may be None: never a match then).
    if current is not None and current in (wanted, covered_by and requirements_digest(covered_by)):
        return 0
    say(message)
    with open(log, "ab") if log else nullcontext() as output:
        installed = install_into(folder, requirements[-1], output)
    if installed == 0:
        stamp.write_text(wanted)
    return installed


def install_into(folder, requirements, output):
    """Install the pins of `requirements` into the virtualenv `folder`: with uv (UV), or with
    pip where uv cannot be had or cannot install them. Return the exit code."""
    python = str(folder / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
    to = {"stdout": output, "stderr": subprocess.STDOUT if output else None}
    if subprocess.call([*pip, "--quiet", UV], **to) == 0:
        uv = [str(folder / "bin" / "uv"), "pip", "install", "--python", python]
        if subprocess.call([*uv, "--compile-bytecode", "-r", str(requirements)], **to) == 0:
            return 0
        say("uv could not install them (above): pip installs them instead")
    return subprocess.call([*pip, "-r", str(requirements)], **to)


def ensure_virtualenv(command):
    """Create `.venv` and install the pinned requirements when they changed.

    `run` needs the app and its local servers only; the tests add their tools, and
    LocalStack's virtualenv and web-push-testing are installed at the same time (pip and npm
    wait on the network and the disk as much as on a core). The tests' Debian packages
    install in the background, while the first tests run (devenv/debian.py).
    """
    if sys.version_info < (3, 11):  # noqa: UP036  (this check runs before the venv exists)
        sys.exit(f"memo: Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    beside = threading.Thread(target=ensure_test_servers, kwargs={"quiet": True})
    if command == "test":
        start_test_packages()
        beside.start()
    if command == "run":
        message = "Installing the app's pinned requirements (seconds the first time)"
        installed = install_pinned(VENV, LOCAL_REQUIREMENTS, message, covered_by=DEV_REQUIREMENTS)
    else:
        message = "Installing pinned requirements and test tools (about 10 s the first time)"
        installed = install_pinned(VENV, DEV_REQUIREMENTS, message) or install_client(VENV)
    if beside.is_alive():
        beside.join()
    if installed:
        sys.exit("memo: pip could not install the pinned requirements (see above)")
    put_project_on_path(VENV)


def install_client(folder):
    """Install the sync client (client/, `memo`) editable, once: its code is read in place, so
    tests/test_sync_client.py runs the checkout's client and its `memo` command. Not a line
    of requirements-dev.txt: `-e ./client` there is read from the current folder (uv and pip
    alike), and scripts/land.py installs a candidate's pins from elsewhere. Return the code."""
    if (folder / "bin" / "memo").exists():
        return 0
    say("Installing the sync client (client/) editable")
    python = str(folder / "bin" / "python")
    client = ["-e", str(ROOT / "client")]
    if (folder / "bin" / "uv").exists():
        uv = [str(folder / "bin" / "uv"), "pip", "install", "--quiet", "--python", python]
        if subprocess.call([*uv, *client]) == 0:
            return 0
    return subprocess.call([python, "-m", "pip", "install", "--quiet", *client])


def put_project_on_path(folder):
    """Make the virtualenv import this checkout (app, config, devenv...) from anywhere.

    A `.pth` file naming the repository, which is what `pip install -e .` writes for a
    project laid out flat like this one; scripts and benchmarks need no sys.path edits.
    """
    (site_packages,) = folder.glob("lib/python3*/site-packages")
    pth = site_packages / "memo.pth"
    if not pth.exists() or pth.read_text() != f"{ROOT}\n":
        pth.write_text(f"{ROOT}\n")


def install_log(message, name, quiet):
    """Return what an install says, and the log in .dev/ its output goes to when `quiet`
    (else None: it goes to the terminal)."""
    message += " (seconds the first time)"
    if not quiet:
        return message, None
    STATE.mkdir(exist_ok=True)
    log = STATE / name
    return f"{message}, its output in {log.relative_to(ROOT)}", log


def ensure_localstack(quiet=False):
    """Install the pinned LocalStack that the presigned-link tests run against, in its own venv.

    It pins its own boto3, so it gets a virtualenv of its own (devenv/localstack/.venv, whose
    stamp devenv/enforcing_store.py reads). If the install fails, those tests are skipped,
    saying why. `quiet`: pip's output goes to .dev/localstack-install.log.
    """
    folder = ROOT / "devenv" / "localstack"
    message, log = install_log(
        "Installing LocalStack for the presigned-link tests", "localstack-install.log", quiet
    )
    if install_pinned(folder / ".venv", [folder / "requirements.txt"], message, log):
        say("Could not install LocalStack: the presigned-link tests will be skipped")


def ensure_test_servers(quiet=False):
    """Install the servers some tests run from their own pins: LocalStack, web-push-testing."""
    ensure_localstack(quiet)
    ensure_web_push_testing(quiet)


def ensure_web_push_testing(quiet=False):
    """Install the pinned web-push-testing (npm) that Memo's pushes are sent to in
    tests/test_reminder_push_service.py: `npm ci` into devenv/webpush/node_modules, again only
    when package-lock.json changed (its digest is stamped there, as devenv/web_push_testing.py
    reads). Without npm, or if the install fails, those tests are skipped, saying why."""
    folder = ROOT / "devenv" / "webpush"
    stamp = folder / "node_modules" / ".package-lock.sha256"
    wanted = requirements_digest([folder / "package-lock.json"])
    if stamp.exists() and stamp.read_text() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: the tests against web-push-testing will be skipped")
        return
    message, log = install_log(
        "Installing web-push-testing for the push tests", "web-push-testing-install.log", quiet
    )
    say(message)
    # Its packages run no install scripts (none has one); --ignore-scripts keeps it so.
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    with open(log, "ab") if log else nullcontext() as output:
        to = {"stdout": output, "stderr": subprocess.STDOUT if output else None}
        installed = subprocess.call(command, cwd=folder, **to) == 0
    if installed:
        stamp.write_text(wanted)
    else:
        say("Could not install web-push-testing: the tests against it will be skipped")


def start_test_packages():
    """Start installing the Debian packages the tests use that are missing (apt-get, as root;
    devenv/debian.py), unless an install is under way already."""
    subprocess.call([sys.executable, str(ROOT / "devenv" / "debian.py")])


def run(args):
    """Start the services, apply migrations, a worker, and serve (devenv/running.py)."""
    from devenv.running import run as run_locally

    return run_locally(args)


def test(args):
    """Lint, then run the whole test suite against real services."""
    bin_dir = VENV / "bin"
    # Under way since the set-up already (nothing to do then), unless this runs on the
    # virtualenv's own Python or the set-up's install failed at once (then tried again).
    start_test_packages()
    say("Linting (ruff check, ruff format --check)")
    lint = subprocess.call([str(bin_dir / "ruff"), "check", "."], cwd=ROOT)
    lint |= subprocess.call([str(bin_dir / "ruff"), "format", "--check", "."], cwd=ROOT)
    if lint:
        say("Lint failed: run `.venv/bin/ruff check --fix . && .venv/bin/ruff format .`")
        return 1
    from devenv.suite import compile_project, run_pytest

    ensure_test_servers()
    compile_project()
    with private_temporary_folder(args) as basetemp:
        return run_pytest(str(bin_dir / "pytest"), [*basetemp, *args])


@contextmanager
def private_temporary_folder(args):
    """Yield pytest's `--basetemp` option naming a folder of this run's own, removed after it.

    By default every pytest session of a user shares /tmp/pytest-of-<user>: each new session
    sets it back to mode 0700 and deletes all but its three newest runs. As root, the embedded
    PostgreSQL runs as another user that must pass through that folder, so another session
    starting on the same machine (a second checkout's tests) broke this run's servers.
    """
    if any(arg.startswith("--basetemp") for arg in args):
        yield []
        return
    folder = tempfile.mkdtemp(prefix="memo-tests-")
    try:
        yield [f"--basetemp={folder}"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def translations(args):
    """Extract the strings, bring every catalog up to date, or compile them (docs/i18n.md)."""
    from devenv.catalogs import CATALOGS, extract, languages, pybabel, tidy

    step, *rest = args or ["help"]
    template = STATE / "messages.pot"
    STATE.mkdir(exist_ok=True)
    if step == "extract":
        return extract(template)
    if step == "update":
        failed = extract(template) or pybabel(
            "update", "-i", str(template), "-d", str(CATALOGS), "--no-fuzzy-matching",
            "--ignore-obsolete", "-w", "96",
        )  # fmt: skip
        for language in [] if failed else languages():
            tidy(language)
        return failed
    if step == "compile":
        return pybabel("compile", "-d", str(CATALOGS), "--statistics")
    if step == "init" and rest:
        return extract(template) or pybabel(
            "init", "-i", str(template), "-d", str(CATALOGS), "-l", rest[0], "-w", "96"
        )
    sys.exit("usage: scripts/dev.py translations extract|update|compile|init LANG")


# Each runs alone by its name (`./scripts/bench photos`); `./scripts/bench all` runs them all
# but the recovery machine's deep run.
BENCHES = {
    "e2e": ["bench/end_to_end.py"],
    "--instructions": ["bench/instructions.py"],
    "photos": ["bench/photo_peak.py"],
    "imports": ["bench/import_peak.py"],
    "conflicts": ["bench/conflicts.py"],
    "recovery-sequences": ["bench/recovery_sequences.py"],
    "request-cost": ["bench/request_cost.py"],
}


def bench(args):
    """Print what a request costs every process, beside fortunes (bench/end_to_end.py).

    `bench --instructions [options]`: every page's instructions under callgrind (they explain,
    they do not decide); `bench request-cost`: the fixed cost of a request, step by step, in
    Python calls; `bench photos|imports|conflicts|recovery-sequences`: one budget's
    benchmark; `bench all`: the end-to-end table, the instructions and the budgets (but the
    recovery deep run)."""
    python = str(VENV_PYTHON)
    if args[:1] == ["all"]:
        runs = [run for name, run in BENCHES.items() if name != "recovery-sequences"]
        codes = [subprocess.call([python, *run], cwd=ROOT) for run in runs]
        return next((code for code in codes if code), 0)
    if args[:1] and args[0] in BENCHES:
        return subprocess.call([python, *BENCHES[args[0]], *args[1:]], cwd=ROOT)
    return subprocess.call([python, *BENCHES["e2e"], *args], cwd=ROOT)


def drill(args):
    """Rehearse a release under load between two commits (scripts/release_drill.py)."""
    return subprocess.call([str(VENV_PYTHON), "scripts/release_drill.py", *args], cwd=ROOT)


def land(args):
    """Verify a branch's merge with main, then fast-forward main to it (scripts/land.py)."""
    return subprocess.call([str(VENV_PYTHON), "scripts/land.py", *args], cwd=ROOT)


COMMANDS = {
    "run": run,
    "test": test,
    "bench": bench,
    "drill": drill,
    "land": land,
    "translations": translations,
}


def main():
    """Bootstrap the virtualenv, then run the command inside it."""
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(
            "usage: scripts/dev.py run|test|bench|drill|land|translations"
            " [arguments for flask run, pytest, ...]"
        )
    # The processes this project starts (servers, workers, `flask` commands, test processes)
    # keep their bytecode in __pycache__ (ignored by git), as Python does by default: each
    # start after the first then reads it instead of compiling the source again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if Path(sys.prefix).resolve() != VENV.resolve():
        ensure_virtualenv(sys.argv[1])
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
