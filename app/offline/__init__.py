"""Memo in the pocket: the web app manifest, the service worker and the offline page.

The worker (templates/offline/sw.js) keeps a copy of a page only when the server marks it
(OFFLINE_KEEP), in a cache of the sign-in that saw it (OFFLINE_ACCOUNT, the same per-sign-in
key the drafts use): a page without the mark, or of another sign-in, is never kept, and a page
of another sign-in (or of nobody) makes the worker drop every copy it holds.
"""

from flask import Blueprint

bp = Blueprint("offline", __name__)
