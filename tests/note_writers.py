"""The writers' guard, for the whole suite (tests/conftest.py installs it): a note or a
reminder inserted, changed or deleted in this process anywhere but inside its writer fails
at once, with NotTheWriter naming the model and the operation.

Inside its writer is a fact the writer records where it writes (app/writers.py): the notes'
service (app/features/notes/service.py) and the reminders' writer
(app/features/notes/reminders.py) run within `writing(Note)` and `writing(Reminder)`. The
guard watches where a write is made, not only where it is sent: a value set on a stored note
or reminder, one put into or taken out of a collection, a new one added to a session; then a
session's flush and its UPDATE, DELETE or INSERT statements on their tables; and, as a
backstop, every statement the engines send: a compiled INSERT, UPDATE or DELETE by its table,
and every statement string, whatever built it (a CTE's UPDATE inside a SELECT or an INSERT,
`text().columns()`, driver SQL), read as PostgreSQL reads names (comments dropped, `U&"..."`
decoded). A change of what a reader sees of a note (NOTE_SHOWN) must also move its revision
before the transaction commits. PostgreSQL's own cascades (a deleted account's notes) are not
seen, nor are other processes' writes (a live server's, a worker's).

Code of the tests that sets rows up as no writer would (an older release's rows, a clock
moved back) says so with `set_up_directly()`.
"""

import re

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.models import Note, Reminder
from app.writers import is_writing, writing

GUARDED = {"note": Note, "reminder": Reminder}
# What a reader sees of a note: changing it moves the note's revision (the API's ETag).
NOTE_SHOWN = ("title", "content", "completed", "pinned", "archived_at", "deleted_at")
TABLE = r'(?:"?public"?\s*\.\s*)?"?(note|reminder)"?(?![\w"])'
WRITE_SQL = re.compile(
    r"\b(UPDATE(?:\s+ONLY)?|INSERT\s+INTO|DELETE\s+FROM(?:\s+ONLY)?|MERGE\s+INTO"
    rf"|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?(?:\s+[\w.\"]+\s*,)*|COPY)\s+{TABLE}",
    re.IGNORECASE,
)
COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.DOTALL)
UNICODE_NAME = re.compile(r'U&"((?:[^"]|"")*)"', re.IGNORECASE)
UNICODE_ESCAPE = re.compile(r"\\(?:\+([0-9A-Fa-f]{6})|([0-9A-Fa-f]{4}))")
OWED = "revision_owed"  # session.info: {note: its revision before} for notes shown changed


class NotTheWriter(AssertionError):
    """A note or a reminder was written outside its writer."""


def set_up_directly():
    """Write notes and reminders as test set-up, outside their writers (say why at the call)."""
    return writing(Note, Reminder)


def refuse(model, operation):
    """Raise NotTheWriter unless the code running is `model`'s writer."""
    if not is_writing(model):
        raise NotTheWriter(
            f"{model.__name__} written outside its writer ({operation}): change notes through "
            "app/features/notes/service.py and reminders through app/features/notes/reminders.py"
        )


def check_flush(session, flush_context, instances):
    """Refuse a flush that inserts, changes or deletes a note or reminder outside its writer."""
    for operation, objects in (
        ("INSERT at a flush", session.new),
        ("DELETE at a flush", session.deleted),
    ):
        for instance in objects:
            if type(instance) in GUARDED.values():
                refuse(type(instance), operation)
    for instance in session.dirty:
        if type(instance) in GUARDED.values() and session.is_modified(instance):
            refuse(type(instance), "UPDATE at a flush")
            if type(instance) is Note:
                owe_revision(session, instance)


def owe_revision(session, note):
    """Remember a note whose shown columns change in this flush while its revision stays."""
    state = inspect(note)
    if not any(state.attrs[name].history.has_changes() for name in NOTE_SHOWN):
        return
    revision = state.attrs.revision.history
    if not revision.has_changes() and revision.unchanged:
        session.info.setdefault(OWED, {}).setdefault(note, revision.unchanged[0])


def check_revisions(session):
    """Before a commit, refuse a note shown changed whose revision did not move."""
    owed, session.info[OWED] = session.info.get(OWED, {}), {}
    for note, before in owed.items():
        if not inspect(note).deleted and note.revision <= before:
            raise NotTheWriter(f"note {note.id} changed what a reader sees; its revision stayed")


def forget_revisions(session, transaction):
    """A transaction that ended (committed or not) owes nothing more."""
    if transaction.parent is None:
        session.info.pop(OWED, None)


def check_statement(execute_state):
    """Refuse a session's UPDATE, DELETE or INSERT of their tables outside their writers."""
    if execute_state.is_update or execute_state.is_delete or execute_state.is_insert:
        model = GUARDED.get(execute_state.statement.table.name)
        if model is not None:
            refuse(model, f"{execute_state.statement.__visit_name__.upper()} statement")


def readable_sql(statement):
    """Return `statement` as PostgreSQL reads its names: comments dropped, U&"..." names
    decoded (U&"\\006eote" is note)."""
    statement = COMMENT.sub(" ", statement)
    return UNICODE_NAME.sub(lambda name: '"' + decode_unicode_name(name.group(1)) + '"', statement)


def decode_unicode_name(body):
    return UNICODE_ESCAPE.sub(lambda code: chr(int(code.group(1) or code.group(2), 16)), body)


def check_sql(connection, cursor, statement, parameters, context, executemany):
    """Refuse, as the statement leaves for the database, any write of their tables: a compiled
    INSERT, UPDATE or DELETE by its table, and every statement string, whatever made it (a
    CTE's UPDATE inside a SELECT or an INSERT, text().columns(), driver SQL), by what it says."""
    compiled = context.compiled if context is not None else None
    if compiled is not None and (context.isinsert or context.isupdate or context.isdelete):
        model = GUARDED.get(compiled.statement.table.name)
        if model is not None:
            refuse(model, f"{compiled.statement.__visit_name__.upper()} on a connection")
    for verb, table in WRITE_SQL.findall(readable_sql(statement)):
        refuse(GUARDED[table.lower()], f"{verb.split()[0].upper()} in SQL text")


def refuse_set(target, value, oldvalue, initiator):
    """Refuse a value set on a stored (or added) note or reminder outside its writer, where it
    is set (the flush that sends it may be a writer's); the same value set again changes nothing."""
    if not inspect(target).transient and value is not oldvalue and value != oldvalue:
        refuse(type(target), f"{initiator.key} set")


def refuse_collection_change(target, value, initiator):
    """Refuse a note or reminder put into, or taken out of, a collection outside its writer."""
    refuse(type(value), f"a change of the collection {initiator.key}")


def refuse_attach(session, instance):
    """Refuse a new note or reminder added to a session outside its writer."""
    if type(instance) in GUARDED.values() and inspect(instance).transient:
        refuse(type(instance), "added to a session")


def listen_where_values_are_set():
    """Listen on every attribute of the guarded models, and every collection that holds them."""
    for model in GUARDED.values():
        for attribute in inspect(model).attrs:
            event.listen(getattr(model, attribute.key), "set", refuse_set)
    for mapper in Note.registry.mappers:
        for relationship in mapper.relationships:
            if relationship.uselist and relationship.mapper.class_ in GUARDED.values():
                collection = getattr(mapper.class_, relationship.key)
                event.listen(collection, "append", refuse_collection_change)
                event.listen(collection, "remove", refuse_collection_change)


def install_the_writers_guard():
    """Listen on every session and engine of this process (tests/conftest.py, at the start)."""
    event.listen(Session, "before_flush", check_flush)
    event.listen(Session, "before_commit", check_revisions)
    event.listen(Session, "after_transaction_end", forget_revisions)
    event.listen(Session, "do_orm_execute", check_statement)
    event.listen(Session, "before_attach", refuse_attach)
    event.listen(Engine, "before_cursor_execute", check_sql)
    listen_where_values_are_set()
