"""The headers that tell the service worker whose page this is and whether to keep it."""

from flask import request
from flask_login import current_user

from app.accounts.sessions import made_for_a_signed_in_user
from app.i18n.choice import html_lang

# The pages a person reads and writes in flight mode: the note list, a note, the forms to
# write one and to edit one. Nothing else is kept: not sign-in, my page, security or token
# pages, the API, share pages or presigned links.
KEPT_OFFLINE = frozenset({"notes.index", "notes.detail", "notes.create", "notes.update"})
OFFLINE_ACCOUNT = "Memo-Offline-Account"
OFFLINE_KEEP = "Memo-Offline-Keep"
NOBODY = "-"
NOT_MODIFIED = 304
# The sign-out's answer empties this site's storage in the browser (caches, IndexedDB,
# localStorage, the service worker). Chrome ignores "cache": the worker drops its copies itself.
CLEARED_AT_SIGN_OUT = '"cache", "storage"'


def mark_page(response):
    """Name the sign-in a page belongs to ("-" for none), and mark the note pages keepable."""
    if response.mimetype != "text/html" or request.blueprint == "offline":
        return response  # the offline page is everyone's: it names nobody
    status = response.status_code
    if 300 <= status < 400 and status != NOT_MODIFIED:
        return response  # a redirect: the page it leads to is marked (and needs no user here)
    response.headers.setdefault("Content-Language", html_lang())
    # Asked only of a request that loaded its user: an error page never queries for one.
    signed_in = made_for_a_signed_in_user() and current_user.is_authenticated
    response.headers[OFFLINE_ACCOUNT] = current_user.draft_key if signed_in else NOBODY
    # A 304 stands for the browser's copy of the page: it carries the page's marks.
    if signed_in and status in (200, NOT_MODIFIED) and request.endpoint in KEPT_OFFLINE:
        response.headers[OFFLINE_KEEP] = "1"
    return response


def init_app(app):
    """Mark every page the app answers."""
    app.after_request(mark_page)
