"""A signed-in page answered 304 Not Modified while nothing it shows has changed (issue #65).

The notes list and a note's page are sent with `Cache-Control: private, no-cache` and a weak
ETag: the browser keeps the page (no shared cache may), asks again with If-None-Match every
time, and gets a 304 without a body while the tag still holds, so a phone's back and forth
costs a 304 instead of a page. The tag is an HMAC (the app's secret: it tells nothing) of all
that the page shows and that can change: the frame's parts (frame_parts) and the page's own.
What a page shows that changes with the clock alone (a reminder's time passing, an upload
form's policy) gives the tag a deadline, `fresh_until()`: written in the tag, covered by its
HMAC, and past it the copy is not fresh.

Weak, because two renders of one state differ in bytes that mean the same: the signing time
inside each CSRF token (and the upload policy of a note's page). A CSRF token is Flask-WTF's
signature of the session's CSRF secret; with WTF_CSRF_TIME_LIMIT unset (config.py) it is
valid as long as that secret, which is in the tag: a page reused by a 304 carries a token
as good as a new page's. With a time limit set, a page is fresh for a quarter of it, so a
reused token has at least three quarters of its life left.

Only a browser that runs Memo's scripts gets a page it may keep: app/static/pocket.js says so
with a cookie (SCRIPTS_COOKIE), and asks again for a signed-in page that the back-forward
cache gives back from memory, so that Back after a sign-out never shows the notes. Without
it (scripts off, a script client), the pages stay no-store.

A page with something to show once (a flashed message) is never answered 304 and carries no
tag: a 304 would show the browser's copy, without the message, and the copy it keeps of the
page with the message must not come back once the message is read. `If-None-Match: *` is
answered with the page (a browser never sends it; the deadline is known only once it is made).
"""

import hashlib
import hmac
import math
import time
from base64 import urlsafe_b64encode
from itertools import islice

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from app.build import code_release
from app.i18n.formats import local_today

# Sent with a page that carries a tag; app/security.py leaves it in place of no-store.
REVALIDATE = "private, no-cache"
FLASHES = "_flashes"  # where Flask keeps the flashed messages in the session
SCRIPTS_COOKIE = "memo-scripts"  # set by app/static/pocket.js in every page it runs in
# The tags of If-None-Match compared, at most: a browser sends the one it has. The header
# may hold thousands (the front lets 32 KiB of headers in); each costs an HMAC.
TAGS_COMPARED = 4
DEADLINE_DIGITS = 12  # seconds since 1970, until the year 33,658


def runs_our_scripts():
    """Return whether the browser runs app/static/pocket.js, which keeps a page the
    back-forward cache gives back from being seen after a sign-out."""
    return request.cookies.get(SCRIPTS_COOKIE) == "1"


def shows_once():
    """Return whether the session holds a message the next page shows once."""
    return FLASHES in session


def frame_shown():
    """Return all that the frame of a signed-in page (app/templates/base.html) shows and that
    can change within a release: the sign-in, the account's nickname, address, photo and own
    zone setting, the language, the page's kind and, on the search page, the words asked for
    (the search box's); None for nobody."""
    user = current_user._get_current_object()  # once: each look through the proxy costs 4 calls
    if not user.is_authenticated:
        return None
    return (
        current_app.config["ENVIRONMENT"],
        user.id,
        user.draft_key,
        user.nickname,
        user.email,
        user.email_verified,
        user.image_url,
        user.time_zone,  # the offline banner's, unset or set to the language's usual one
        str(get_locale()),
        request.endpoint,
        request.args.get("q", "") if request.endpoint == "search.search" else "",
    )


def shown_parts():
    """Return what every signed-in page shows that can change: the release (its code, its
    files' URLs, its words), the frame (frame_shown), the account's change number (any note
    changed), the zone the page's times are written in and the reader's date there (times
    near it are said "today", "yesterday": app/i18n/formats.py), and the address asked for."""
    frame = frame_shown()
    return (
        code_release(),
        *frame,
        current_user.change_seq,
        get_timezone(),
        local_today(),
        request.full_path,
    )


def frame_parts():
    """Return what the frame shows (shown_parts) and the session's CSRF secret, which the
    page's CSRF tokens sign."""
    return (*shown_parts(), session.get(current_app.config["WTF_CSRF_FIELD_NAME"], ""))


def fresh_until(moment):
    """Say that the page being made shows something that changes at `moment` (a datetime or
    seconds since 1970), when the clock alone reaches it: its tag holds until then."""
    seconds = moment if isinstance(moment, int | float) else moment.timestamp()
    g.fresh_until = min(g.get("fresh_until", math.inf), seconds)


def not_reusable():
    """Mark the page being made as one never to reuse (it shows a passing failure)."""
    g.page_not_reusable = True


def page_tag(parts, deadline=None):
    """Return the weak ETag of a page showing `parts` beside its frame, fresh until
    `deadline` (whole seconds since 1970), or for good."""
    written = "" if deadline is None else str(deadline)
    message = "\x1f".join(map(str, (*frame_parts(), *parts, written))).encode()
    digest = hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).digest()
    value = urlsafe_b64encode(digest[:16]).decode().rstrip("=")
    return f'W/"{value}.{written}"' if written else f'W/"{value}"'


def fresh_copy(parts):
    """Return the tag of the browser's copy if it is the page `parts` make now and its
    deadline has not passed, else None."""
    sent = request.if_none_match.as_set(include_weak=True)
    for value in islice(sent, TAGS_COMPARED):
        _, dot, written = value.partition(".")
        if dot and not (written.isdigit() and len(written) <= DEADLINE_DIGITS):
            continue
        deadline = int(written) if dot else None
        if deadline is not None and time.time() >= deadline:
            continue
        tag = page_tag(parts, deadline)
        if tag == f'W/"{value}"':
            return tag
    return None


def not_modified(tag):
    """Return the 304 that tells the browser to show its copy."""
    response = make_response("", 304)
    response.headers.update({"ETag": tag, "Cache-Control": REVALIDATE})
    return response


def csrf_deadline():
    """Return when the page's CSRF tokens reach a quarter of their time limit, if they have
    one (config.py has none: they live as long as the session's secret)."""
    limit = current_app.config["WTF_CSRF_TIME_LIMIT"]
    return time.time() + limit / 4 if limit else math.inf


def revalidated(render, *parts, once=False):
    """Answer 304 while the browser's copy of the page is current, else `render()` it with
    its tag. `parts`: what the page shows beside its frame (hashable); `once`: it shows
    something once (flashed messages always count), so it is rendered and never tagged. A
    page for a browser without Memo's scripts is never tagged."""
    # A debug run reloads templates as they change: a browser's copy may predate a change.
    if once or shows_once() or current_app.debug:
        return make_response(render())
    if not runs_our_scripts():
        return make_response(render())
    tag = fresh_copy(parts)
    if tag is not None:
        return not_modified(tag)
    response = make_response(render())
    if response.status_code == 200 and not g.get("page_not_reusable"):
        deadline = min(g.get("fresh_until", math.inf), csrf_deadline())
        # Made after the render, which may have given the session its CSRF secret.
        tag = page_tag(parts, None if deadline == math.inf else int(deadline))
        response.headers.update({"ETag": tag, "Cache-Control": REVALIDATE})
    return response
