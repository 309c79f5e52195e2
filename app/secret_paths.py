"""Routes whose path holds a secret: a share link's token, a mailed link's, a reminder's.

Each such variable is declared with the `secret` converter (app/urls.py), so the mark is in
the route itself: `/s/<secret:token>`. Whatever writes a request's path down (the request
log, error reports) writes `masked_path()`: each secret's value replaced by its name
(`/s/<token>`). A path no route matches that starts as a marked one does
(`/s/<secret>/`, `/s//<secret>`, `/S/<secret>`) keeps only that start.
tests/test_secret_paths.py fails when a route's variable is neither a number, nor a secret,
nor listed there as no secret with why.
"""

import posixpath
import re
from urllib.parse import unquote

from flask import current_app, has_app_context
from werkzeug.exceptions import HTTPException

SECRET_VARIABLE = re.compile(r"<secret:([A-Za-z_]\w*)>")


def secret_names(rule_text):
    """Return the names of a route's variables that are secrets (`<secret:name>`)."""
    return SECRET_VARIABLE.findall(rule_text)


def masked_path(path, rule=None, args=None, method="GET"):
    """Return `path` with the secrets of its route replaced by their names. Without the
    route (`rule`, `args`) already matched, the path is matched against the routes; without
    the app's routes at hand, only its first segment is told."""
    if not has_app_context():
        first, more, _ = path.lstrip("/").partition("/")
        return f"/{first}/…" if more else path
    if rule is None:
        try:
            adapter = current_app.url_map.bind("memo")
            rule, args = adapter.match(path, method=method, return_rule=True)
        except HTTPException:  # no route, another method, or a redirect
            return masked_by_start(path)
    args = args or {}
    hidden = {str(args[name]): name for name in secret_names(rule.rule) if name in args}
    if not hidden:
        return path
    return "/".join(
        f"<{hidden[unquote(part)]}>" if unquote(part) in hidden else part
        for part in path.split("/")
    )


def secret_starts():
    """Return {the static start of each route before its first secret: the secret's name}."""
    starts = {}
    for rule in current_app.url_map.iter_rules():
        for name in secret_names(rule.rule):
            start = rule.rule.split(f"<secret:{name}>")[0]
            if "<" not in start and start.endswith("/"):
                starts[start] = name
    return starts


def masked_by_start(path):
    """Return a path no route matched with all that follows a marked route's start masked.

    The path is compared as a router or a browser may read it: in any letter case, with `//`,
    `/./` and `..` folded (`/S//<token>` redirects or 404s, but names the secret all the same).
    """
    plain = posixpath.normpath("/" + unquote(path).lower().lstrip("/"))
    for start, name in secret_starts().items():
        if f"{plain}/".startswith(start) and len(plain) >= len(start):
            return f"{start}<{name}>"
    return path
