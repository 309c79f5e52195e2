"""What one request costs the web process, counted so that two runs agree (issue #89): the
SQL statements it sends and the Python functions it calls, from the WSGI call to the end of
its teardown, each counted to the step of the request it was made in (`steps`). Used by
tests/test_request_cost.py (the ceilings) and bench/request_cost.py (the table in
docs/performance.md)."""

import gc
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from app.extensions import db

OTHER = "the rest"


@dataclass
class Cost:
    """What one request cost: statements sent, Python calls, and both by step."""

    statements: list = field(default_factory=list)
    calls: int = 0
    calls_by_step: Counter = field(default_factory=Counter)
    statements_by_step: Counter = field(default_factory=Counter)


class Counted:
    """WSGI middleware that counts what the app under it costs, one request at a time.

    `steps` maps a function's code to the step it begins: a call is counted to the innermost
    step running (the view's render inside the page tag's, say), else to OTHER."""

    def __init__(self, app, steps=None):
        self.app = app
        self.inner = app.wsgi_app
        self.steps = steps or {}
        self.last = None

    def __call__(self, environ, start_response):
        cost, running, steps = Cost(), [], self.steps

        def step():
            return running[-1][1] if running else OTHER

        def record(conn, cursor, statement, parameters, context, executemany):
            cost.statements.append(statement)
            cost.statements_by_step[step()] += 1

        def profile(frame, kind, arg):
            if kind == "call":
                begun = steps.get(frame.f_code)
                if begun is not None:
                    running.append((frame, begun))
                cost.calls += 1
                cost.calls_by_step[step()] += 1
            elif kind == "return" and running and running[-1][0] is frame:
                running.pop()

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
def counting(app, steps=None):
    """Count each request the app serves inside; yield the Counted whose `last` is the cost."""
    counted = Counted(app, steps)
    app.wsgi_app = counted
    try:
        yield counted
    finally:
        app.wsgi_app = counted.inner
