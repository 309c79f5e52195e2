"""Finding code that writes a Note, read from the source with `ast` (nothing is imported):
the layout test holds app/features/notes/service.py to be the only one."""

import ast
import re

from app.models import Note

COLUMNS = frozenset(column.key for column in Note.__table__.columns)
# Raw SQL that changes the note table itself (note_version, note_share... are other tables).
NOTE_SQL = re.compile(r'\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?note"?(?![_\w])', re.I)
STATEMENTS = ("update", "insert", "delete")


def is_note_table(node):
    """Return whether an expression names the Note model or its table."""
    if isinstance(node, ast.Name):
        return node.id in ("Note", "NOTES")
    if isinstance(node, ast.Attribute):
        return node.attr == "__table__" and is_note_table(node.value)
    return False


def holds_a_note(node):
    """Return whether an expression is, by its name, a note (`note`, `copy_note`, `notes[0]`)."""
    while isinstance(node, ast.Subscript | ast.Attribute) and not (
        isinstance(node, ast.Attribute) and "note" in node.attr.lower()
    ):
        node = node.value
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return "note" in name.lower()


def call_name(node):
    """Return the name a call calls (`update` for sqlalchemy.update and update_rows too)."""
    function = node.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")


def is_session_delete(node):
    """Return whether a call is `<...>.session.delete(...)` (the ORM's, not a statement's)."""
    function = node.func
    if not (isinstance(function, ast.Attribute) and function.attr == "delete"):
        return False
    owner = function.value
    return getattr(owner, "attr", getattr(owner, "id", None)) == "session"


def note_writes(source):
    """Yield (line, what) for each write of a Note in a module's source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = call_name(node)
            if is_note_table(node.func):
                yield node.lineno, "Note(...)"
            elif (
                node.args
                and is_note_table(node.args[0])
                and (
                    name in STATEMENTS
                    or name.endswith(tuple(f"_{s}" for s in STATEMENTS))
                    or name.startswith(tuple(f"{s}_" for s in STATEMENTS))
                )
            ):
                yield node.lineno, f"{name}(Note)"
            elif is_session_delete(node) and node.args and holds_a_note(node.args[0]):
                yield node.lineno, "session.delete(note)"
            elif name == "setattr" and node.args and holds_a_note(node.args[0]):
                yield node.lineno, "setattr(note, ...)"
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if (
                        isinstance(part, ast.Attribute)
                        and part.attr in COLUMNS
                        and holds_a_note(part.value)
                    ):
                        yield node.lineno, f"note.{part.attr} = ..."
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and NOTE_SQL.search(node.value)
        ):
            yield node.lineno, "SQL that writes the note table"
