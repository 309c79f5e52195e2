"""The front's own answers (400, 413, 429, 431, 502, 503, 504): a small page in the reader's
language, styled like the app's error page, with a way back.

The language is the app's rule without the account (which only the app knows): the switcher's
cookie, then the best of Accept-Language (app/i18n/languages.py, shared with the app), else
English. The words come from the app's own catalogs (app/translations), read with Babel alone.
"""

import base64
import hashlib
import html
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from babel.support import Translations

from app.i18n.languages import LANGUAGE_COOKIE, best_language, is_language


def N_(message):  # noqa: N802 (gettext's name for a string marked, translated later)
    return message


CATALOGS = Path(__file__).resolve().parent.parent / "app" / "translations"
TITLES = {
    400: N_("Bad request"),
    413: N_("Too large"),
    429: N_("Too many requests"),
    431: N_("Headers too large"),
    500: N_("Server error"),
    502: N_("Briefly unavailable"),
    503: N_("Briefly unavailable"),
    504: N_("Too slow to answer"),
}
MESSAGES = {
    400: N_("The request could not be understood. Please go back and try again."),
    413: N_("That upload is too large."),
    429: N_("Too many requests are being sent at once. Please try again in 30 seconds."),
    431: N_("The request's headers are too large. Clearing this site's cookies may help."),
    500: N_("Something went wrong on our side. It has been logged; please try again."),
    502: N_("The service is restarting. Please try again in a moment."),
    503: N_("The service is briefly unavailable. Please try again in a moment."),
    504: N_("The service took too long to answer. Please try again."),
}
BACK = N_("Back to your notes")
STYLE = (
    "body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f6f6f4;color:#1d1d1b}"
    "main{max-width:32rem;margin:4rem auto;padding:1.5rem;background:#fff;border-radius:12px;"
    "box-shadow:0 1px 3px #0002}h1{font-size:1.25rem;margin:0 0 .75rem}a{color:#2456a6}"
    "@media(prefers-color-scheme:dark){body{background:#1b1b1a;color:#eee}"
    "main{background:#262625}a{color:#8fb4ff}}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# Nothing but this page's own style may run or load (the app's CSP is stricter than this).
POLICY = f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; frame-ancestors 'none'"
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{code} · {title}</title><style>{style}</style></head>
<body><main><h1>{code} · {title}</h1><p>{message}</p>
<p><a href="{home}">{back}</a></p></main></body></html>
"""


@cache
def catalog(language):
    """Return the app's compiled catalog for `language` (English: the messages themselves)."""
    return Translations.load(str(CATALOGS), [language])


def reader_language(headers):
    """Return `ko` or `en` for a request's headers, as the app chooses for a visitor."""
    cookie = SimpleCookie()
    for name, value in headers:
        if name == b"cookie":
            try:
                cookie.load(value.decode("latin-1"))
            except CookieError:
                continue
    chosen = cookie.get(LANGUAGE_COOKIE)
    if chosen is not None and is_language(chosen.value):
        return chosen.value
    accepted = b",".join(value for name, value in headers if name == b"accept-language")
    return best_language(accepted.decode("latin-1"))


def page(status, language, home):
    """Return the page of the front's answer `status` in `language`, as UTF-8 bytes."""
    words = catalog(language)
    return PAGE.format(
        lang=language,
        code=status,
        title=html.escape(words.gettext(TITLES[status])),
        message=html.escape(words.gettext(MESSAGES[status])),
        style=STYLE,
        home=html.escape(home),
        back=html.escape(words.gettext(BACK)),
    ).encode()


@dataclass
class Answer:
    """A whole response: gunicorn's, taken at once, or the front's own."""

    status: int
    headers: list = field(default_factory=list)  # (name, value) bytes, as the sender cased them
    body: object = None  # a file positioned at 0, or None
    size: int = 0
    close: bool = False
    reason: bytes = b""
    spooled: int = 0  # bytes reserved in the dyno's response budget, given back once sent

    @classmethod
    def own(cls, status, request_headers, home="/", extra=()):
        """The front's own answer, in the reader's language; the connection is closed after."""
        language = reader_language(request_headers)
        text = page(status, language, home)
        headers = [
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Language", language.encode()),
            (b"Content-Security-Policy", POLICY.encode()),
            (b"X-Content-Type-Options", b"nosniff"),
            (b"Cache-Control", b"no-store"),
            (b"Vary", b"Accept-Language, Cookie"),
            *extra,
        ]
        return cls(status, headers, Text(text), len(text), close=True)

    @property
    def reason_phrase(self):
        return self.reason or HTTPStatus(self.status).phrase.encode()


class Text:
    """An own page's bytes, read as a spooled body is (read(n) until b"", close())."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def read(self, size):
        piece = self.data[self.at : self.at + size]
        self.at += len(piece)
        return piece

    def close(self):
        self.data = b""
