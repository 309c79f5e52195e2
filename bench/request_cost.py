#!/usr/bin/env python3
"""Benchmark: the fixed cost of a signed-in request, step by step (issue #89), as counts that
two runs repeat exactly: the Python functions each step calls and the statements it sends.

    ./scripts/bench request-cost      # prints the table of docs/performance.md

Memo is made as gunicorn's worker makes it (bench/seeding.py's `memo_app`: ProductionConfig,
the request log to /dev/null), seeded as bench/instructions.py seeds it (a reader of 100
notes), with the bench's fortunes page registered beside it. Each page is served in-process
(bench/served.py's prepared environ, through the pretend HTTPS router) three times, then
counted twice by devenv/requestcost.py, which must agree. A call is counted to the innermost
step running: the steps are Flask's hooks, by the module that registered them, and the named
functions of STEPS. No timing: the end-to-end table (`./scripts/bench`) decides.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from bench.instructions import pages_to_serve, seed
from bench.seeding import Database, memo_app
from bench.served import answered, call, environ_for
from devenv.requestcost import OTHER, counting

PAGES = ("fortunes", "fortunes-signed-in", "list-304", "list-tagged", "note-304", "note-tagged")
# The table's columns (fortunes, not signed in, gives the total's budget only).
SHOWN = {
    "fortunes-signed-in": "fortunes signed in",
    "list-304": "the list's 304",
    "list-tagged": "the list",
    "note-304": "a note's 304",
    "note-tagged": "a note page",
}
# The steps of a request in the order it pays them, and the module of each hook of the app.
HOOKS = {
    "app.requestlog": "the request log",
    "app.security": "security headers",
    "app.offline.marks": "offline marks",
    "app.i18n.choice": "language and zone",
    "flask_wtf.csrf": "CSRF",
    "flask_login.login_manager": "the sign-in's load",
    "app.errors": "the teardown",
    "flask_sqlalchemy.extension": "the teardown",
}
# The budget of a 304 of the list: each step of the plumbing costs no more than it costs the
# bare fortunes page signed in (the same session, sign-in and hooks, no Memo page), the view
# and the tag have their own, and in all at most 1.5x fortunes (issue #89's ratio of CPU,
# here of calls). The first statement of a request also pays its connection's checkout: on
# fortunes its view's, on the list the sign-in's load.
STEPS = (
    "ProxyFix",
    "Flask: contexts, routing",
    "the session cookie",
    "the sign-in's load",
    "CSRF",
    "language and zone",
    "the view",
    "the page tag",
    "security headers",
    "offline marks",
    "the request log",
    "the teardown",
)
TAG_BUDGET = 150
VIEW_BUDGET = 100
TOTAL_BUDGET = 1.5


def budgets(costs):
    """Return {step: the most Python calls it may cost the list's 304}, and the total's."""
    bare = costs["fortunes-signed-in"].calls_by_step
    steps = {step: bare[step] for step in STEPS}
    steps["the view"] = VIEW_BUDGET  # fortunes' view runs its query, a 304's reads the request
    steps["the page tag"] = TAG_BUDGET
    return steps, int(TOTAL_BUDGET * costs["fortunes"].calls)


def named_steps():
    """Return {step: functions} of the steps that are no hook of the app."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface
    from flask.templating import render_template
    from flask_babel import get_locale, get_timezone
    from flask_login import LoginManager
    from flask_wtf.csrf import generate_csrf

    from app.extensions import RefererCheckingCSRFProtect
    from app.revalidation import revalidated
    from app.urls import Proxied

    sessions = SecureCookieSessionInterface
    return {
        "ProxyFix": [Proxied.__call__],
        "Flask: contexts, routing": [Flask.wsgi_app],
        "the session cookie": [sessions.open_session, sessions.save_session],
        # Flask-Login's own loader (0.6.3): what it runs for each request's current_user.
        "the sign-in's load": [LoginManager._load_user],
        "CSRF": [RefererCheckingCSRFProtect.protect, generate_csrf],
        "language and zone": [get_locale, get_timezone],
        "the view": [Flask.dispatch_request],
        "the page tag": [revalidated],
        "the page made": [render_template],
    }


def steps_of(app):
    """Return {code: step} for counting: the named steps and every hook of the app."""
    steps = {}
    for step, functions in named_steps().items():
        steps.update((function.__code__, step) for function in functions)
    hooks = [
        *app.before_request_funcs.get(None, ()),
        *app.after_request_funcs.get(None, ()),
        *app.teardown_request_funcs.get(None, ()),
        *app.teardown_appcontext_funcs,
    ]
    for hook in hooks:
        function = getattr(hook, "__func__", hook)
        name = f"{function.__module__}.{function.__qualname__}"
        steps[function.__code__] = HOOKS.get(function.__module__, name)
    return steps


def cost_of(app, counted, path, headers, kind=None):
    """Serve a page three times, then count it twice; return the count (both must agree)."""
    environ = environ_for(path, headers)
    check = answered("200")
    if kind == "revalidated":
        call(app, environ, check)
        environ["HTTP_IF_NONE_MATCH"] = check.headers["ETag"]
        check = answered("304")
    costs = []
    for _ in range(5):
        call(app, environ, check)
        costs.append(counted.last)
    first, second = costs[-2:]
    if (first.calls, first.calls_by_step) != (second.calls, second.calls_by_step):
        raise RuntimeError(f"{path}: two counts differ, {first.calls} and {second.calls}")
    return second


def table(costs):
    """Return the Markdown table: each step's Python calls (statements) a page, and budgets."""
    limits, total = budgets(costs)
    shown = {SHOWN[name]: cost for name, cost in costs.items() if name in SHOWN}
    seen = {step for cost in shown.values() for step, calls in cost.calls_by_step.items() if calls}
    order = [*STEPS, "the page made", OTHER]
    lines = [
        "| step | " + " | ".join(shown) + " | budget: the list's 304 |",
        "|---|" + "--:|" * (len(shown) + 1),
    ]
    for step in [*(s for s in order if s in seen), *sorted(seen - set(order))]:
        cells = []
        for cost in shown.values():
            calls, statements = cost.calls_by_step[step], cost.statements_by_step[step]
            cells.append(f"{calls:,}" + (f" ({statements})" if statements else ""))
        most = limits.get(step)
        over = most is not None and costs["list-304"].calls_by_step[step] > most
        mark = "" if most is None else f"{most:,}" + (" (over)" if over else "")
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {mark} |")
    totals = [f"**{cost.calls:,}** ({len(cost.statements)})" for cost in shown.values()]
    lines.append("| in all (statements) | " + " | ".join(totals) + f" | {total:,} |")
    return "\n".join(lines)


def main():
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-request-cost-"))
    database = Database(folder)
    try:
        app = memo_app(database, "INFO")
        from bench.baseline.blueprint import bp

        app.register_blueprint(bp)
        pages = pages_to_serve(app, seed(database, ()))
        with counting(app, steps_of(app)) as counted:
            costs = {name: cost_of(app, counted, *pages[name]) for name in PAGES}
    finally:
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(table(costs))
    return 0 if costs["list-304"].calls <= budgets(costs)[1] else 1


if __name__ == "__main__":
    sys.exit(main())
