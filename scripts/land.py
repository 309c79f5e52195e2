#!/usr/bin/env python3
"""Land a branch on main only when its merge passes the release phase and the migration tests.

    scripts/land BRANCH [-m MESSAGE] [--relink]
    scripts/land --commit SHA

Every commit on main is a release (`git push` to staging deploys it), so the merge commit is
checked before main moves: built in a temporary worktree (or, with `--commit`, a merge
already made and resolved by hand on top of main), it must pass
1. the revision lint (ruff on migrations/, squawk on each revision's SQL);
2. the release phase on a fresh database;
3. the release phase on a database at main's current head, built by main's own release
   phase; then `flask db downgrade` back to main's head and the release phase again; the
   schema must then equal the fresh one (`pg_dump --schema-only`);
4. main's lines of migrations/frozen.txt kept as they are (a landed revision is frozen);
5. the migration tests (the freeze test, with migrations/head.txt against the chain's head;
   the chain's checks, every revision's data test, the history validation).
With --relink, the merge's revision is put on main's head and scripts/freeze_revisions.py,
the one writer of migrations/frozen.txt and migrations/head.txt, is run again.
Then main is fast-forwarded to that commit (in the worktree that has main checked out, if
any). Anything else leaves main where it was and says why; docs/releases.md has the rest.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import warnings
from contextlib import ExitStack
from pathlib import Path

from devenv import ROOT, say
from devenv.schema import schema_dump
from devenv.services import ensure_database, start_postgres, stop_postgres

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's, on import


VENV_CACHE = ROOT / ".dev" / "land-venvs"
MIGRATION_TESTS = [
    "tests/test_revision_freeze.py",
    "tests/migrations",  # the chain's checks, every revision's data test, the lint's tests
]
# Run too when the merge changes the release phase's own code (they take about 2 minutes).
RELEASE_PHASE_TESTS = {
    "tests/test_release_history.py": [
        "app/release",
        "migrations/env.py",
        "app/schema.py",
        "app/commands/release.py",
    ],
}


class Refused(Exception):
    """The commit may not land; the message says why and what to do."""


def git(*args, cwd=ROOT, check=True):
    """Run git and return its output, stripped."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise Refused(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def virtualenv_for(folder):
    """Return the bin folder of a virtualenv with `folder`'s pinned requirements (and dev tools)."""
    names = ["requirements.txt", "requirements-local.txt", "requirements-dev.txt"]
    files = [folder / name for name in names if (folder / name).exists()]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()
    own = hashlib.sha256(b"".join((ROOT / path.name).read_bytes() for path in files)).hexdigest()
    if digest == own:
        return Path(sys.executable).parent
    cached = VENV_CACHE / digest[:16]
    if not (cached / ".complete").exists():
        say(f"Requirements differ from this checkout's: a virtualenv in {cached}")
        shutil.rmtree(cached, ignore_errors=True)
        venv.create(cached, with_pip=True)
        pip = [str(cached / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-r", str(files[-1])], check=True)
        (cached / ".complete").touch()
    return cached / "bin"


class Checkout:
    """A commit checked out in a temporary worktree, with a virtualenv for it."""

    def __init__(self, name, commit, workdir):
        self.name, self.commit = name, commit
        self.folder = workdir / name
        git("worktree", "add", "--detach", str(self.folder), commit)
        self.bin = virtualenv_for(self.folder)

    def environment(self, database_url, **extra):
        """Return the environment of a process of this checkout against `database_url`."""
        variables = {
            **os.environ,
            "APP_SETTINGS": "config.TestingConfig",
            "TEST_DATABASE_URL": database_url,
            "VIRTUAL_ENV": str(self.bin.parent),
            # This checkout's code first: the virtualenv's .pth names the landing checkout's.
            "PYTHONPATH": str(self.folder),
            **extra,
        }
        variables["PATH"] = f"{self.bin}{os.pathsep}{variables.get('PATH', '')}"
        return variables

    def run(self, command, database_url, what, timeout=1200, **extra):
        """Run a shell command in the checkout; refuse with its output's end if it fails."""
        started = time.monotonic()
        try:
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=self.folder,
                env=self.environment(database_url, **extra),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise Refused(f"{what} did not finish in {timeout} s") from None
        seconds = time.monotonic() - started
        if done.returncode:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
            raise Refused(f"{what} failed (exit {done.returncode}, {seconds:.0f} s):\n{tail}")
        say(f"{what}: ok ({seconds:.1f} s)")
        return done.stdout

    def release_phase(self, database_url, what):
        """Run the Procfile's `release:` command."""
        procfile = (self.folder / "Procfile").read_text().splitlines()
        (command,) = [
            line.split(":", 1)[1].strip() for line in procfile if line.startswith("release:")
        ]
        return self.run(f"exec {command}", database_url, what)

    def head_revision(self, database_url):
        """Return the single migration head of this checkout, or refuse."""
        heads = self.run("exec flask db heads", database_url, f"{self.name}: migration heads")
        revisions = [line.split()[0] for line in heads.splitlines() if "(head)" in line]
        if len(revisions) != 1:
            raise Refused(
                f"{self.name} has {len(revisions)} migration heads ({', '.join(revisions)}): "
                "relink the branch's new revision onto main's head first "
                "(scripts/relink_revision.py in the branch, or `scripts/land BRANCH --relink`)"
            )
        return revisions[0]


def candidate_commit(args, main_tip, workdir):
    """Return the commit to verify: the merge of main and the branch, or the one given."""
    if args.commit:
        sha = git("rev-parse", "--verify", f"{args.commit}^{{commit}}")
        if main_tip not in git("rev-list", "--first-parent", sha).split():
            raise Refused(
                f"{sha[:10]} does not have main ({main_tip[:10]}) on its first-parent line: "
                "make the merge on top of main's current head (`git merge` from main) first"
            )
        return sha
    branch = git("rev-parse", "--verify", f"{args.branch}^{{commit}}")
    folder = workdir / "merge"
    git("worktree", "add", "--detach", str(folder), main_tip)
    message = args.message or f"Merge {args.branch}"
    merged = subprocess.run(
        ["git", "merge", "--no-ff", "-q", "-m", message, branch],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if merged.returncode:
        conflicts = git("diff", "--name-only", "--diff-filter=U", cwd=folder, check=False)
        why = ", ".join(conflicts.split()) or merged.stderr.strip()
        raise Refused(
            f"{args.branch} does not merge cleanly into main (conflicts: {why}):"
            " resolve the merge yourself in a worktree of main, commit it, and run "
            "`scripts/land --commit <the merge commit>`"
        )
    if args.relink:
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "relink_revision.py"), "--onto", main_tip],
            cwd=folder,
            check=True,
        )
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "freeze_revisions.py"), "--main", main_tip],
            cwd=folder,
            check=True,
        )
        if git("status", "--porcelain", cwd=folder):
            git(
                "add",
                "-A",
                "migrations/versions",
                "migrations/frozen.txt",
                "migrations/head.txt",
                cwd=folder,
            )
            git("commit", "-q", "--amend", "--no-edit", cwd=folder)
    return git("rev-parse", "HEAD", cwd=folder)


def verify(candidate, main_tip, workdir, database):
    """Run the release phase and the migration tests on `candidate`; refuse at the first failure."""
    names = ("land_fresh", "land_from_main", "land_tests")
    for name in names:
        ensure_database(database.get_uri(), name, recreate=True)
    fresh, upgraded, tests = (database.get_uri(name) for name in names)
    new = Checkout("candidate", candidate, workdir)
    old = Checkout("main", main_tip, workdir)
    old_head, new_head = old.head_revision(fresh), new.head_revision(fresh)
    say(f"main is at revision {old_head}; the candidate at {new_head}")
    added = new_revisions(main_tip, candidate)
    lint = f"ruff check migrations && python scripts/lint_migrations.py {' '.join(added)}"
    if added:  # the others were linted when they landed, and are frozen since
        new.run(lint, fresh, f"revision lint ({', '.join(added)})")
    new.release_phase(fresh, "release phase on a fresh database")
    old.release_phase(upgraded, f"main's release phase (to {old_head})")
    new.release_phase(upgraded, f"release phase on main's database ({old_head} -> {new_head})")
    if old_head != new_head:
        new.run(f"exec flask db downgrade {old_head}", upgraded, f"downgrade to {old_head}")
        new.release_phase(upgraded, f"release phase again ({old_head} -> {new_head})")
    if schema_dump(fresh) != schema_dump(upgraded):
        raise Refused(
            "the schema upgraded from main's differs from a fresh one (pg_dump --schema-only)"
        )
    say("schema from main's database equals the fresh one (pg_dump --schema-only)")
    check_frozen_lines(main_tip, candidate)
    present = [test for test in MIGRATION_TESTS if (new.folder / test).exists()]
    for test, code in RELEASE_PHASE_TESTS.items():
        if (new.folder / test).exists() and git(
            "diff", "--name-only", main_tip, candidate, "--", *code
        ):
            present.append(test)
    new.run(
        f"exec pytest -q -x -p no:cacheprovider {' '.join(present)}",
        tests,
        f"migration tests ({len(present)} files)",
    )


def check_frozen_lines(main_tip, candidate):
    """Refuse a candidate that changes or drops a line of main's migrations/frozen.txt."""
    shown = subprocess.run(
        ["git", "show", f"{main_tip}:migrations/frozen.txt"], capture_output=True, text=True
    )
    if shown.returncode:  # main from before the list: nothing to keep yet
        return
    kept = set(git("show", f"{candidate}:migrations/frozen.txt").splitlines())
    lost = [line for line in shown.stdout.splitlines() if line and line not in kept]
    if lost:
        raise Refused(
            "the candidate changes main's lines of migrations/frozen.txt (landed revisions are "
            "frozen; put the change in a new revision): " + "; ".join(lost)
        )
    say("main's frozen revisions are kept as they are (migrations/frozen.txt)")


def new_revisions(main_tip, candidate):
    """Return the ids of the revision files the candidate adds to main."""
    added = git(
        "diff", "--name-only", "--diff-filter=A", main_tip, candidate, "--", "migrations/versions"
    )
    return [Path(path).name.split("_", 1)[0] for path in added.split() if path.endswith(".py")]


def main_worktree():
    """Return the worktree that has main checked out, or None."""
    folder = None
    for line in git("worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            folder = line.split(" ", 1)[1]
        elif line == "branch refs/heads/main":
            return Path(folder)
    return None


def fast_forward(candidate, main_tip):
    """Move main to `candidate`, only from `main_tip` and only forward."""
    if git("rev-parse", "main") != main_tip:
        raise Refused("main moved while the candidate was verified: run scripts/land again")
    folder = main_worktree()
    if folder is None:
        git("update-ref", "refs/heads/main", candidate, main_tip)
        return
    if git("status", "--porcelain", "--untracked-files=no", cwd=folder):
        raise Refused(
            f"{folder} (main) has uncommitted changes: commit or stash them, then "
            f"`git -C {folder} merge --ff-only {candidate[:10]}` (already verified)"
        )
    git("merge", "--ff-only", "-q", candidate, cwd=folder)


def main():
    """Verify the merge, then fast-forward main to it; exit 1 with the reason otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("branch", nargs="?", help="the branch to merge into main")
    target.add_argument("--commit", help="a merge made by hand on top of main: verify and land it")
    parser.add_argument("--dry-run", action="store_true", help="verify only; leave main alone")
    parser.add_argument("-m", "--message", help="the merge commit's message")
    parser.add_argument(
        "--relink", action="store_true", help="relink the branch's new revision onto main's head"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary worktrees")
    args = parser.parse_args()
    started = time.monotonic()
    main_tip = git("rev-parse", "--verify", "main^{commit}")
    workdir = Path(tempfile.mkdtemp(prefix="memo-land-"))
    with ExitStack() as stack:
        if not args.keep:
            stack.callback(cleanup, workdir)
        try:
            candidate = candidate_commit(args, main_tip, workdir)
            say(f"Verifying {candidate[:10]} on top of main {main_tip[:10]} in {workdir}")
            database = start_postgres(workdir / "postgres", cleanup_mode="delete")
            stack.callback(stop_postgres, database)
            verify(candidate, main_tip, workdir, database)
            if args.dry_run:
                seconds = time.monotonic() - started
                say(f"Verified {candidate[:10]} ({seconds:.0f} s); main left alone")
                return 0
            fast_forward(candidate, main_tip)
        except Refused as refusal:
            say(f"NOT landed; main stays at {main_tip[:10]}: {refusal}")
            return 1
    say(f"Landed: main is now {candidate[:10]} ({time.monotonic() - started:.0f} s)")
    return 0


def cleanup(workdir):
    """Remove the temporary worktrees and their folder."""
    for folder in workdir.iterdir():
        if (folder / ".git").exists():
            git("worktree", "remove", "--force", str(folder), check=False)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
