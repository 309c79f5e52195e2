"""Messages that jobs store (why a word count or a photo failed), shown in the reader's language.

A job runs for nobody's request, and its row may be read later by someone reading another
language, or by the previous release. So a job stores the English sentence, as before, and a
page translates it when it shows it: the sentence is matched against the English messages
marked here, its values are taken back out, and the translation is filled with them. Rows
written before translations existed are read the same way.
"""

import re
from functools import cache

from flask_babel import gettext

# Values that are themselves stored messages (a reason inside a reason), translated in turn.
NESTED = frozenset({"reason", "problem"})
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# Every marked message and the pattern that reads it back out of a stored sentence, in order.
MESSAGES = {}


def stored_message(message):
    """Mark `message` (English, `%(name)s` placeholders) as one a job may store; return it."""
    pattern, seen = "", set()
    for index, part in enumerate(PLACEHOLDER.split(message)):
        if index % 2 == 0:
            pattern += re.escape(part)
        else:  # a value named twice must be the same text both times
            pattern += f"(?P={part})" if part in seen else f"(?P<{part}>.+?)"
            seen.add(part)
    MESSAGES[message] = pattern  # compiled at the first sentence read back (`compiled`)
    return message


@cache
def compiled(pattern):
    """Return `pattern` compiled, once: the 57 patterns were about 13 ms of every process's
    start, and most processes never read a stored sentence back."""
    return re.compile(pattern, re.DOTALL)


def translated(message, params=None):
    """Return the marked `message` in the reader's language, filled with `params`."""
    params = {
        name: translated_text(value) if name in NESTED else value
        for name, value in (params or {}).items()
    }
    return gettext(message, **params) if params else gettext(message)


def translated_text(text):
    """Return a stored English sentence in the reader's language (unchanged if not one of ours)."""
    if not text:
        return text
    for message, pattern in MESSAGES.items():
        match = compiled(pattern).fullmatch(text)
        if match:
            return translated(message, match.groupdict())
    return text


def init_app(app):
    """Give templates the `translated` filter for stored sentences."""
    app.add_template_filter(translated_text, "translated")
