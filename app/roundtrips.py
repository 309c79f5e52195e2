"""The database round trips a process makes, counted for bench/end_to_end.py (issue #81).

Off unless MEMO_COUNT_ROUND_TRIPS names a folder: each process then writes its counts to
`<folder>/<pid>.json` twice a second. What psycopg2 sends is counted as it decides to send it:
a ping (`pool_pre_ping`'s `SELECT 1`) on every checkout of a pooled connection, a `BEGIN`
before the first statement outside autocommit, each statement, and a `COMMIT` or `ROLLBACK`
only while a transaction is open (psycopg2 sends neither otherwise).
"""

import json
import os
import threading
from collections import Counter
from pathlib import Path

from psycopg2.extensions import STATUS_BEGIN
from sqlalchemy import event

from app.extensions import db

SETTING = "MEMO_COUNT_ROUND_TRIPS"
WRITE_SECONDS = 0.5
KINDS = ("checkouts", "pings", "begins", "statements", "commits", "rollbacks")


def in_transaction(dbapi_connection):
    """Return whether psycopg2 has a transaction open on this connection (it sent BEGIN)."""
    return dbapi_connection.status == STATUS_BEGIN


def count(engine, counts, pre_ping):
    """Count on `engine`'s events what each one sends to the server."""

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection, record, proxy):
        counts["checkouts"] += 1
        # A connection made for this checkout is not pinged: its first checkout is its connect.
        if pre_ping and record.info.setdefault("checked_out", False):
            counts["pings"] += 1
        record.info["checked_out"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def statement(connection, cursor, statement, parameters, context, executemany):
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.autocommit and not in_transaction(dbapi_connection):
            counts["begins"] += 1
        counts["statements"] += 1

    @event.listens_for(engine, "commit")
    def commit(connection):
        counts["commits"] += in_transaction(connection.connection.dbapi_connection)

    @event.listens_for(engine, "rollback")
    def rollback(connection):
        counts["rollbacks"] += in_transaction(connection.connection.dbapi_connection)

    @event.listens_for(engine, "reset")
    def reset(dbapi_connection, record, reset_state):
        if not reset_state.transaction_was_reset:
            counts["rollbacks"] += in_transaction(dbapi_connection)


def write_every(folder, counts):
    """Write this process's counts to its own file, now and every WRITE_SECONDS."""

    def write():
        path, written = folder / f"{os.getpid()}.json", folder / f"{os.getpid()}.json.new"
        while True:
            written.write_text(json.dumps({kind: counts[kind] for kind in KINDS}))
            written.replace(path)  # whole: a reader never sees half a file
            threading.Event().wait(WRITE_SECONDS)

    threading.Thread(target=write, daemon=True, name="round-trips").start()


def read(folder):
    """Return the counts of every process that wrote to `folder`, summed."""
    total = Counter()
    for path in Path(folder).glob("*.json"):
        try:
            total.update(json.loads(path.read_text()))
        except ValueError:  # written in place by an older commit's writer: read it again
            threading.Event().wait(0.05)
            total.update(json.loads(path.read_text()))
    return total


def init_app(app):
    """Count the round trips of this process's engine when MEMO_COUNT_ROUND_TRIPS is set."""
    folder = os.environ.get(SETTING)
    if not folder:
        return
    counts = Counter()
    with app.app_context():
        count(db.engine, counts, app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"))
    write_every(Path(folder), counts)
