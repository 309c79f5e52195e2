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
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack, suppress
from pathlib import Path

from devenv import ROOT, say
from devenv.history import HistoryUnavailable, git
from devenv.releases import Release
from devenv.schema import schema_dump
from devenv.services import ensure_database, start_postgres, stop_postgres

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's, on import


# The migration tests need the dev tools: a checkout's virtualenv has all three files.
REQUIREMENTS = ("requirements.txt", "requirements-local.txt", "requirements-dev.txt")
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


def run(release, command, database_url, what, timeout=1200):
    """Run a shell command in the release's folder under TestingConfig; refuse if it fails."""
    environ = release.environment(
        APP_SETTINGS="config.TestingConfig", TEST_DATABASE_URL=database_url
    )
    try:
        code, seconds, lines = release.run(command, environ, timeout)
    except subprocess.TimeoutExpired:
        raise Refused(f"{what} did not finish in {timeout} s") from None
    if code:
        tail = "\n".join(lines[-25:])
        raise Refused(f"{what} failed (exit {code}, {seconds:.0f} s):\n{tail}")
    say(f"{what}: ok ({seconds:.1f} s)")


def release_phase(release, database_url, what):
    """Run the Procfile's `release:` command."""
    run(release, f"exec {release.procfile['release']}", database_url, what)


def head_revision(release):
    """Return the single migration head of a release, or refuse."""
    if len(release.heads) != 1:
        raise Refused(
            f"{release.name} has {len(release.heads)} migration heads "
            f"({', '.join(release.heads)}): relink the branch's new revision onto main's head "
            "first (scripts/relink_revision.py in the branch, or `scripts/land BRANCH --relink`)"
        )
    return release.heads[0]


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
        conflicts = git("diff", "--name-only", "--diff-filter=U", cwd=folder)
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
    new = Release.build("candidate", candidate, workdir, requirements=REQUIREMENTS)
    old = Release.build("main", main_tip, workdir, requirements=REQUIREMENTS)
    old_head, new_head = head_revision(old), head_revision(new)
    added = new_revisions(main_tip, candidate)
    lint = f"ruff check migrations && python scripts/lint_migrations.py {' '.join(added)}"
    if added:  # the others were linted when they landed, and are frozen since
        run(new, lint, fresh, f"revision lint ({', '.join(added)})")
    release_phase(new, fresh, "release phase on a fresh database")
    release_phase(old, upgraded, f"main's release phase (to {old_head})")
    release_phase(new, upgraded, f"release phase on main's database ({old_head} -> {new_head})")
    if old_head != new_head:
        run(new, f"exec flask db downgrade {old_head}", upgraded, f"downgrade to {old_head}")
        release_phase(new, upgraded, f"release phase again ({old_head} -> {new_head})")
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
    run(
        new,
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
        except (Refused, HistoryUnavailable) as refusal:
            say(f"NOT landed; main stays at {main_tip[:10]}: {refusal}")
            return 1
    say(f"Landed: main is now {candidate[:10]} ({time.monotonic() - started:.0f} s)")
    return 0


def cleanup(workdir):
    """Remove the temporary worktrees and their folder."""
    for folder in workdir.iterdir():
        if (folder / ".git").exists():
            with suppress(HistoryUnavailable):
                git("worktree", "remove", "--force", str(folder))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
