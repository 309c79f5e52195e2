"""Routes whose path holds a secret: a share link's token, a mailed link's, a reminder's.

Each such view is marked where it is declared (`@secret_in_path("token")`), and whatever
writes a request's path down (the request log, error reports) writes `masked_path()`: the
marked variables' values replaced by their names (`/s/<token>`). A path that matches no
route but starts as a marked one (`/s/<secret>/more`) has the segment after that start
masked too. tests/test_secret_paths.py fails when a route of the table has a variable that
is neither marked nor listed there as no secret, with why.
"""

from urllib.parse import unquote

from flask import current_app, has_app_context
from werkzeug.exceptions import HTTPException

MARK = "secret_in_path"


def secret_in_path(*names):
    """Mark a view whose path variables `names` are secrets: logs show `<name>` instead."""

    def mark(view):
        setattr(view, MARK, names)
        return view

    return mark


def secrets_of(endpoint):
    """Return the names of the endpoint's path variables that are secrets."""
    return getattr(current_app.view_functions.get(endpoint), MARK, ())


def masked_path(path, endpoint=None, args=None, method="GET"):
    """Return `path` with the secrets of its route replaced by their names. Without the
    route (`endpoint`, `args`) already matched, the path is matched against the routes;
    without the app's routes at hand, only its first segment is told."""
    if not has_app_context():
        first, more, _ = path.lstrip("/").partition("/")
        return f"/{first}/…" if more else path
    if endpoint is None:
        try:
            endpoint, args = current_app.url_map.bind("memo").match(path, method=method)
        except HTTPException:  # no route, another method, or a redirect
            return masked_by_start(path)
    names = {str(value): name for name, value in (args or {}).items()}
    hidden = {value: name for value, name in names.items() if name in secrets_of(endpoint)}
    if not hidden:
        return path
    segments = path.split("/")
    return "/".join(
        f"<{hidden[unquote(part)]}>" if unquote(part) in hidden else part for part in segments
    )


def secret_starts():
    """Return {the static start of each marked route's path: the variable after it}."""
    starts = {}
    for rule in current_app.url_map.iter_rules():
        for name in secrets_of(rule.endpoint):
            start = rule.rule.split(f"<{name}>")[0].split("<")[0]
            if start.endswith("/"):
                starts[start] = name
    return starts


def masked_by_start(path):
    """Return a path no route matched with the segment after a marked route's start masked."""
    for start, name in secret_starts().items():
        if path.startswith(start):
            rest = path[len(start) :].partition("/")
            return f"{start}<{name}>{rest[1]}{rest[2]}"
    return path
