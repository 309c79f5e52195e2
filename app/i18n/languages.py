"""Which of Memo's languages a reader asked for: one rule for the app and the request front.

Werkzeug only, no Flask: the front (front/pages.py) imports it to answer in the language the
app would have chosen, without loading the app.
"""

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

# Code and the language's own name, as the switcher shows it.
LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "language"
# A longer header is no browser's: read only its start.
ACCEPT_LANGUAGE_MAX_LENGTH = 1000


def is_language(code):
    """Return whether `code` names a language Memo speaks."""
    return isinstance(code, str) and code in LANGUAGES


def best_language(accept_language):
    """Return the best match of an Accept-Language value among Memo's languages, else English."""
    header = (accept_language or "")[:ACCEPT_LANGUAGE_MAX_LENGTH]
    # Each accepted language by its primary subtag, best first. Not LanguageAccept.best_match:
    # for "en-US,ko;q=0.5" it prefers the exact "ko" to the "en" that en-US falls back to.
    for value, _quality in parse_accept_header(header, LanguageAccept):
        primary = value.replace("_", "-").split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE
