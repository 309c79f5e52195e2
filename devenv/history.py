"""Main's first-parent history of migrations/versions, read from git.

Walked commit by commit (`git rev-list --first-parent`, each commit diffed against its
first parent): `git log --first-parent -- path` may follow a merged branch's history.
Used by the relinked-history tests and the release drill (the freeze needs no history:
migrations/frozen.txt).
"""

import subprocess

from devenv import ROOT

VERSIONS = "migrations/versions"
MAIN_CANDIDATES = ("main", "origin/main", "refs/remotes/origin/HEAD")


class HistoryUnavailable(Exception):
    """Git, or enough of main's history, is not here to read."""


def git(*args, cwd=ROOT):
    """Run git and return its output, stripped; raise HistoryUnavailable when it fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise HistoryUnavailable("git is not installed") from None
    except subprocess.CalledProcessError as error:
        raise HistoryUnavailable(f"git {' '.join(args)}: {error.stderr.strip()}") from None
    return done.stdout.strip()


def main_ref(wanted=None, cwd=ROOT):
    """Return the ref of main: `wanted`, else main, origin/main, or HEAD as a last resort."""
    for ref in [wanted] if wanted else MAIN_CANDIDATES:
        try:
            git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd)
        except HistoryUnavailable:
            continue
        return ref
    if wanted:
        raise HistoryUnavailable(f"{wanted} is not a commit here")
    return "HEAD"


def check_history_is_complete(cwd=ROOT):
    """Raise HistoryUnavailable unless this is a git checkout with its full history."""
    inside = git("rev-parse", "--is-inside-work-tree", cwd=cwd)
    if inside != "true":
        raise HistoryUnavailable("not a git checkout")
    if git("rev-parse", "--is-shallow-repository", cwd=cwd) == "true":
        raise HistoryUnavailable(
            "this clone is shallow: run `git fetch --unshallow` (.ci/run does) so that main's "
            "history of migrations/versions can be read"
        )


def first_parent_line(ref, cwd=ROOT):
    """Return the commits of `ref`'s first-parent line, oldest first."""
    return git("rev-list", "--first-parent", "--reverse", ref, cwd=cwd).split()


def revision_changes(commit, cwd=ROOT):
    """Return [(status, path)] of revision files `commit` changed against its first parent."""
    parents = git("rev-list", "--parents", "-n", "1", commit, cwd=cwd).split()[1:]
    base = parents[0] if parents else git("hash-object", "-t", "tree", "/dev/null", cwd=cwd)
    listing = git("diff", "--name-status", "--no-renames", base, commit, "--", VERSIONS, cwd=cwd)
    changes = []
    for line in listing.splitlines():
        status, path = line.split("\t", 1)
        if path.endswith(".py"):
            changes.append((status[0], path))
    return changes


def commits_adding_revisions(ref, within, cwd=ROOT):
    """Return the commits among `ref`'s last `within` first-parent commits that added a revision.

    Newest first.
    """
    recent = first_parent_line(ref, cwd)[-within:]
    return [
        commit
        for commit in reversed(recent)
        if any(status == "A" for status, _ in revision_changes(commit, cwd))
    ]


# The freeze rule: a revision on main keeps the code it shipped with.
