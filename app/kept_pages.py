"""Signed-in pages made once for what they show, not once a request (issue #65).

The notes list and a note's page are kept made in the web process, keyed by what their tag
covers (app/revalidation.py): the release, the account and its change number (which every
change of a note moves: the one writer, app/features/notes/service.py), the sign-in, the nickname,
address and photo, the language and zone, the address asked for, and what the page reads
beside (a note's revision, files, links, reminder and push browsers). A page kept is used
again only for that same key: never for another account or sign-in, and never after what it
shows has changed. A deadline the page set while it was made (`fresh_until`: a reminder that
fires, the quick choices of the reminder form, the upload form's policy) ends it too.

What is the request's own is added to each answer, never kept: the CSRF token (the page is
kept in the pieces around it, and joined with the request's token, which Flask-WTF signs
anew each request), and the session's messages (a page with a message waiting is made, and
not kept, as it is never tagged). Each process keeps its own pages, the least recently used
given up past PAGE_CACHE_BYTES (config.py); 0 keeps none.

Below a page, the frame every signed-in page shares (app/templates/base.html: its header,
navigation and offline words) is kept made too, as a part (`kept_part`), keyed by all it
shows and not by the account's change number: a page made anew after a note changed (its
first view) pays for its own content, not for the frame again.
"""

import math
import sys
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from flask import current_app, g
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

EXTENSION = "kept_pages"
PARTS = "kept_parts"
# The parts one process keeps: a signed-in frame is about 5 KB (Korean's words take two bytes
# a character), so about 200 of them: the sign-ins and kinds of page most recently seen.
PARTS_BYTES = 2**20


class KeptPage(NamedTuple):
    """A page as made, split around its CSRF token, and until when it holds."""

    pieces: tuple
    deadline: float  # seconds since 1970, or math.inf
    size: int  # the bytes its strings hold


class KeptPages:
    """The pages kept made by this process, the least recently used given up first."""

    def __init__(self, max_bytes):
        self.max_bytes, self.size = max_bytes, 0
        self.pages = OrderedDict()
        self.lock = threading.Lock()  # a web process serves several threads

    def get(self, key):
        """Return the page kept for `key` while it holds, else None."""
        with self.lock:
            page = self.pages.get(key)
            if page is None:
                return None
            if time.time() >= page.deadline:
                self.drop(key)
                return None
            self.pages.move_to_end(key)
            return page

    def put(self, key, page):
        """Keep `page` for `key`, giving up the oldest pages past the budget."""
        if page.size > self.max_bytes // 4:
            return  # one page never pushes out most of the others
        with self.lock:
            if key in self.pages:
                self.drop(key)
            self.pages[key] = page
            self.size += page.size
            while self.size > self.max_bytes:
                self.drop(next(iter(self.pages)))

    def drop(self, key):
        self.size -= self.pages.pop(key).size

    def clear(self):
        """Give up every page kept."""
        with self.lock:
            self.pages.clear()
            self.size = 0


def kept(render, key):
    """Return the page `render()` makes for `key`: the one kept while it holds, with this
    request's CSRF token, else made now (and kept unless it is marked not reusable)."""
    pages = current_app.extensions[EXTENSION]
    page = pages.get(key) if pages.max_bytes else None
    if page is not None:
        # The page's tag (app/revalidation.py) holds until the page's own deadline.
        g.fresh_until = min(g.get("fresh_until", math.inf), page.deadline)
        return generate_csrf().join(page.pieces)
    made = render()
    if pages.max_bytes and isinstance(made, str) and not g.get("page_not_reusable"):
        pieces = tuple(made.split(generate_csrf()))
        size = sum(map(sys.getsizeof, pieces))
        pages.put(key, KeptPage(pieces, g.get("fresh_until", math.inf), size))
    return made


def kept_part(*key, caller):
    """Return what the template's `{% call kept_part(...) %}` block makes, made once for `key`
    (all that the block shows: the caller names it) and joined with this request's CSRF
    token. A key holding None is kept never (nobody signed in: app/revalidation.py,
    frame_shown), nor is anything in a debug run, which reloads templates as they change."""
    if current_app.debug or None in key:
        return caller()
    parts = current_app.extensions[PARTS]
    part = parts.get(key)
    if part is None:
        pieces = tuple(caller().split(generate_csrf()))  # Markup's split gives Markup
        part = KeptPage(pieces, math.inf, sum(map(sys.getsizeof, pieces)))
        parts.put(key, part)
    return escape(generate_csrf()).join(part.pieces)


def init_app(app):
    """Give the app its process's kept pages and parts, and its templates `kept_part`."""
    app.extensions[EXTENSION] = KeptPages(app.config["PAGE_CACHE_BYTES"])
    app.extensions[PARTS] = KeptPages(PARTS_BYTES)
    app.add_template_global(kept_part)
