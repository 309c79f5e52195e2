"""Routes whose path holds a secret: a share link's token, a mailed link's, a reminder's.

Each such variable is declared with the `secret` converter (app/urls.py), so the mark is in
the route itself: `/s/<secret:token>`. Whatever writes a request's path down (the request
log, error reports) writes `masked_path()`: each secret's value replaced by its name
(`/s/<token>`). Any other path that holds, anywhere, a marked route's start followed by more
is cut to that start (`/s/<token>`), however it is spelled: its segments are read split on
`/`, `\\` and `;`, percent-decoded, case-folded (`/S/<t>`, `/s;x/<t>`, `/s\\<t>`,
`/s/<t>/..`, `/static/../s/<t>`). Only a route whose variables are all numbers is written as
it came: nothing in it can be a token. tests/test_secret_paths.py fails when a route's
variable is neither a number, nor a secret, nor listed there as no secret with why.
"""

import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote
from uuid import UUID

from flask import current_app, has_app_context
from werkzeug.exceptions import HTTPException

SECRET_VARIABLE = re.compile(r"<secret:([A-Za-z_]\w*)>")
# What a server, a proxy or a browser may read as a segment's end.
SEPARATORS = re.compile(r"[/\\;]")
SLASHES = re.compile(r"[/\\]")
SPACES = " \t\r\n\x00"
LOOSE = SPACES + "."  # around a segment, what some servers drop (`/s./`, `/s%20/`)
DECODINGS = 4  # `%252F` is `/` after two; a path still changing after four is cut whole


def secret_names(rule_text):
    """Return the names of a route's variables that are secrets (`<secret:name>`)."""
    return SECRET_VARIABLE.findall(rule_text)


def masked_path(path, rule=None, args=None, method="GET"):
    """Return `path` with the secrets of its route replaced by their names. Without the
    route (`rule`, `args`) already matched, the path is matched against the routes; without
    the app's routes at hand, only its first segment is told."""
    if not has_app_context():
        segments = readings(path)
        if segments is None:
            return "/…"
        return f"/{segments[0][0]}/…" if len(segments[0]) > 1 else path
    if rule is None:
        try:
            adapter = current_app.url_map.bind("memo")
            rule, args = adapter.match(path, method=method, return_rule=True)
        except HTTPException:  # no route, another method, or a redirect
            return masked_by_start(path)
    args = args or {}
    hidden = {str(args[name]): name for name in secret_names(rule.rule) if name in args}
    if not hidden:
        return path if only_numbers(args) else masked_by_start(path)
    return "/".join(
        f"<{hidden[unquote(part)]}>" if unquote(part) in hidden else part
        for part in path.split("/")
    )


def only_numbers(args):
    """Tell whether each of a matched route's values is a number (an id) or a UUID: a path
    it matched is its own words and digits, and holds no token."""
    return all(isinstance(value, (int, UUID)) for value in args.values())


def readings(path):
    """Return the path's segments as readers may see them: percent-decoded (again while that
    changes it), case-folded, split on `/` and `\\`, and `;` read as a separator (`/s;x/`)
    or as the start of the segment's parameters, dropped (Tomcat: `/s;x/` is `/s/`). None
    when it still decodes after DECODINGS."""
    text = path
    for _ in range(DECODINGS + 1):
        decoded = unquote(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    else:
        return None
    text = unicodedata.normalize("NFKC", text).casefold().lstrip("/")
    parameters_dropped = [segment.split(";")[0] for segment in SLASHES.split(text)]
    return [SEPARATORS.split(text), parameters_dropped]


def holds_start(segments, words):
    """Tell whether a segment follows the segments `words` in `segments`, as they are written
    (empty ones left out: `/auth//reset/`) or at any step of resolving their dot segments
    (`/static/../s/`, `/auth/x/../reset/`; `/s/<token>/..` is `/s/<token>` before its `..`)."""
    written, resolved = [], []
    for segment in segments:
        if not segment:
            continue
        if words in (written[-len(words) :], resolved[-len(words) :]):
            return True
        word = segment.strip(LOOSE)
        written.append(word)
        if segment.strip(SPACES) == "..":
            del resolved[-1:]
        elif word:
            resolved.append(word)
    return False


@lru_cache(maxsize=8)  # a process has its app's routes (the tests a few apps'): read once
def secret_starts(url_map):
    """Return {the static start of each route before its first secret: (the secret's name,
    the start's words)}."""
    starts = {}
    for rule in url_map.iter_rules():
        for name in secret_names(rule.rule):
            start = rule.rule.split(f"<secret:{name}>")[0]
            if "<" not in start and start.endswith("/"):
                starts[start] = (name, start.strip("/").split("/"))
    return starts


def masked_by_start(path):
    """Return a path with all that follows a marked route's start masked, wherever in the
    path that start is and however it is spelled (`readings`, `holds_start`). A path that
    does not decode is cut whole."""
    segments = readings(path)
    if segments is None:
        return "/<masked>"
    for start, (name, words) in secret_starts(current_app.url_map).items():
        if any(holds_start(reading, words) for reading in segments):
            return f"{start}<{name}>"
    return path
