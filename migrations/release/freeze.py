"""A revision's checksum: its code without docstrings, as the record and the freeze compare it."""

import ast
import hashlib
from pathlib import Path

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
