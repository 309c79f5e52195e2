"""Main's first-parent history of migrations/versions, read from git.

Walked commit by commit (`git rev-list --first-parent`, each commit diffed against its
first parent): `git log --first-parent -- path` may follow a merged branch's history.
Used by the freeze test, the history tests and the release drill.
"""

import ast
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from migrations.release.freeze import frozen_source

ROOT = Path(__file__).resolve().parent.parent
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


def show(commit, path, cwd=ROOT):
    """Return the text of `path` at `commit`."""
    return git("show", f"{commit}:{path}", cwd=cwd)


@dataclass
class RevisionFile:
    """One revision file's life on main: the commit that added it and each later change."""

    path: str
    added: str
    changed: list = field(default_factory=list)  # [(status, commit)], oldest first


def revision_files(ref, cwd=ROOT):
    """Return {path: RevisionFile} for every revision file on `ref`'s first-parent line."""
    files = {}
    for commit in first_parent_line(ref, cwd):
        for status, path in revision_changes(commit, cwd):
            if status == "A" and path not in files:
                files[path] = RevisionFile(path, commit)
            elif path in files:
                files[path].changed.append((status, commit))
    return files


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


def frozen_violations(ref, accepted_edits, cwd=ROOT):
    """Return one line per change to a shipped revision's code on `ref` or in this tree.

    `accepted_edits` maps a path to the (abbreviated) commits whose edits predate the rule; the
    version such a commit left becomes the one later versions are compared with.
    """
    problems = []
    for path, life in revision_files(ref, cwd).items():
        shipped_at, shipped = life.added, show(life.added, path, cwd)
        for status, commit in life.changed:
            if any(commit.startswith(edit) for edit in accepted_edits.get(path, ())):
                shipped_at, shipped = commit, show(commit, path, cwd)
            elif status == "D":
                problems.append(f"{path}: deleted by {describe(commit, cwd)}")
            elif changes := code_changes(shipped, show(commit, path, cwd)):
                problems.append(
                    f"{path}: {describe(commit, cwd)} changed {changes} "
                    f"(shipped by {short(shipped_at)})"
                )
        here = Path(cwd) / path
        if not here.exists():
            problems.append(f"{path}: shipped by {short(shipped_at)}, missing from this tree")
        elif changes := code_changes(shipped, here.read_text()):
            problems.append(f"{path}: this tree changes {changes} (shipped by {short(shipped_at)})")
    return problems


def code_changes(old, new):
    """Return what differs between two versions of a revision's code, or "" (docstrings aside)."""
    before, after = top_level(old), top_level(new)
    if before == after:
        return ""
    changed = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was == now:
            continue
        if was is None or now is None:
            changed.append(f"{'added' if was is None else 'removed'} `{name}`")
        elif len(was) < 60 and len(now) < 60 and "\n" not in was + now:
            changed.append(f"{name} from {was} to {now}")
        else:
            changed.append(name)
    return "; ".join(changed)


def top_level(source):
    """Return {name: code} for a revision's top-level statements, docstrings left out."""
    statements = {}
    for node in ast.parse(frozen_source(source)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            statements[ast.unparse(node.targets[0])] = ast.unparse(node.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            statements[f"{node.name}()"] = ast.unparse(node)
        else:  # imports and other statements: named by their own code
            statements[ast.unparse(node)] = ast.unparse(node)
    return statements


def short(commit):
    """Return a commit's abbreviated id."""
    return commit[:7]


def describe(commit, cwd=ROOT):
    """Return "abc1234 (subject)" for a commit."""
    subject = git("log", "-1", "--format=%s", commit, cwd=cwd)
    return f"{short(commit)} ({subject[:60]}{'...' if len(subject) > 60 else ''})"
