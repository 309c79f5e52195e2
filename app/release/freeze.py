"""A revision's checksum (its code without docstrings), and the list of frozen revisions.

The record of applied revisions keeps each one's checksum (records.py). migrations/frozen.txt
lists every revision that has landed on main with its checksum: a revision on it is frozen,
and tests/test_revision_freeze.py compares each file with its line, with no git history.
"""

import ast
import hashlib
import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
FROZEN = MIGRATIONS / "frozen.txt"
ENTRY = re.compile(r"^(\S+\.py) ([0-9a-f]{64})$")
CHECKSUMS = {}
DOCUMENTED = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def script_file(script):
    """Return a script's path as the repository names it (migrations/versions/...)."""
    return f"migrations/versions/{Path(script.path).name}"


def script_checksum(script):
    """Return the checksum of a script's file, read once per process."""
    if script.path not in CHECKSUMS:
        CHECKSUMS[script.path] = revision_checksum(Path(script.path).read_text())
    return CHECKSUMS[script.path]


def frozen_source(source):
    """Return a revision's code as Python's unparser writes it, without docstrings or comments.

    Formatting, quotes, comments and docstrings may change in a shipped revision; this
    text may not (down_revision, the operations, the marks).
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, DOCUMENTED) and node.body and is_docstring(node.body[0]):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def is_docstring(statement):
    """Return whether a statement is a bare string (a docstring when it comes first)."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def revision_checksum(source):
    """Return the SHA-256 of a revision's frozen source (hex)."""
    return hashlib.sha256(frozen_source(source).encode()).hexdigest()


def read_frozen(text):
    """Return {file name: checksum} from frozen.txt's text (comment lines start with #)."""
    entries = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = ENTRY.match(line)
        if match is None:
            raise ValueError(f"frozen.txt line {number} is not `FILE.py SHA256`: {line!r}")
        entries[match[1]] = match[2]
    return entries


def current_checksums(versions=MIGRATIONS / "versions"):
    """Return {file name: checksum} of the revision files in `versions`, in name order."""
    return {
        path.name: revision_checksum(path.read_text()) for path in sorted(versions.glob("*.py"))
    }


def freeze_problems(frozen, current):
    """Return what breaks the freeze: a listed revision changed or gone, or one not listed."""
    problems = []
    for name, checksum in frozen.items():
        if name not in current:
            problems.append(f"{name} is frozen but no longer in migrations/versions")
        elif current[name] != checksum:
            problems.append(
                f"{name} changed since it landed (checksum {checksum[:12]} frozen, "
                f"{current[name][:12]} now): a landed revision is frozen; put the change in a "
                "new revision"
            )
    for name in current.keys() - frozen.keys():
        problems.append(
            f"{name} is not in migrations/frozen.txt: add it with "
            "`python scripts/freeze_revisions.py` before it lands"
        )
    return problems
