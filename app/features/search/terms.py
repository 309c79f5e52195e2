"""A search query as typed, split into its terms: words, "phrases", -exclusions, prefix*,
and `tag:` filters (app/tags.py). query.py turns the terms into PostgreSQL's tsquery."""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.errors import Refused
from app.tags import TAGS_PER_FILTER, tag_name

# Each prefix term reads every index key of the user's that starts so, and is checked
# against every candidate note: `b* c* d* ... z*` took 6.5 s on 7,500 long notes. A query
# may hold a few; a shorter one (`b*`) matches as a whole word, and so do Korean words
# (matched as prefixes, for their particles) past the few.
MAX_PREFIXES = 5
MIN_PREFIX_LENGTH = 2
TOO_MANY_PREFIXES = _l("Use at most %(num)s words ending in *.", num=MAX_PREFIXES)
NOT_A_TAG = _l("After tag: write a tag: letters, digits, _ and -, such as tag:work or tag:회의.")
TOO_MANY_TAGS = _l("Search for at most %(num)s tags at once.", num=TAGS_PER_FILTER)
TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')


class SearchRefused(Refused):
    """A query Memo will not run as typed; the message tells the user what to change."""

    problem = "search-refused"


@dataclass(frozen=True)
class Term:
    """A word or a phrase as typed: its text, whether it is excluded, whether it is a prefix."""

    text: str
    excluded: bool = False
    prefix: bool = False


def split_tags(typed):
    """Return (the query without its `tag:` words, the tags they name, folded), or raise
    SearchRefused for a `tag:` that names no tag."""
    words, tags = [], []
    for word in typed.split():
        if word.lower().startswith("tag:"):
            tag = tag_name(word[4:])
            if tag is None:
                raise SearchRefused(NOT_A_TAG)
            if tag not in tags:
                tags.append(tag)
        else:
            words.append(word)
    if len(tags) > TAGS_PER_FILTER:
        raise SearchRefused(TOO_MANY_TAGS)
    return " ".join(words), tags


def parse(query):
    """Split a query as typed into terms; raise SearchRefused past the prefix budget."""
    terms = []
    for minus, phrase, word in TERM.findall(query):
        if phrase:
            terms.append(Term(phrase, excluded=bool(minus)))
        elif word:
            text = word.rstrip("*")
            terms.append(Term(text, bool(minus), word.endswith("*") and long_enough(text)))
    if sum(term.prefix for term in terms) > MAX_PREFIXES:
        raise SearchRefused(TOO_MANY_PREFIXES)
    return terms


def long_enough(prefix):
    """Return whether a prefix has letters enough to match as one (else it is a whole word)."""
    return sum(char.isalnum() for char in prefix) >= MIN_PREFIX_LENGTH
