"""What one request costs the web process, counted so that two runs agree (issue #89): the
SQL statements it sends and the Python functions it calls, from the WSGI call to the end of
its teardown. Used by tests/test_request_cost.py (the ceilings) and bench/request_cost.py
(the table in docs/performance.md)."""

import gc
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from app.extensions import db


@dataclass
class Cost:
    """What one request cost: statements sent, Python calls, and the calls by module."""

    statements: list = field(default_factory=list)
    calls: int = 0
    by_module: Counter = field(default_factory=Counter)


class Counted:
    """WSGI middleware that counts what the app under it costs, one request at a time."""

    def __init__(self, app):
        self.app = app
        self.inner = app.wsgi_app
        self.last = None

    def __call__(self, environ, start_response):
        cost = Cost()

        def record(conn, cursor, statement, parameters, context, executemany):
            cost.statements.append(statement)

        def profile(frame, kind, arg):
            if kind == "call":
                cost.calls += 1
                cost.by_module[frame.f_code.co_filename] += 1

        with self.app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        gc.collect()
        gc.disable()  # a collection's finalizers and weakref callbacks run at random moments
        sys.setprofile(profile)
        try:
            body = self.inner(environ, start_response)
        finally:
            sys.setprofile(None)
            gc.enable()
            event.remove(engine, "before_cursor_execute", record)
        self.last = cost
        return body


@contextmanager
def counting(app):
    """Count each request the app serves inside; yield the Counted whose `last` is the cost."""
    counted = Counted(app)
    app.wsgi_app = counted
    try:
        yield counted
    finally:
        app.wsgi_app = counted.inner
