"""A query's terms as PostgreSQL's text search normalizes them (the notes' configuration:
stemmed, stop words dropped), written as tsquery: for the stored vectors (phrases in order,
exclusions) and for the search index's keys (each word with its owner's id in front,
migration 0011). Korean particles attach to the word before them (메모를, 메모가), and the notes'
words are kept with theirs: so a word with Hangul in it loses its own particles as a tag does
(app/tags.py: 회의록은 is 회의록) and matches as a prefix, within the query's budget of prefixes."""

import re
from dataclasses import dataclass

from sqlalchemy import text

from app.extensions import db
from app.features.search.terms import MAX_PREFIXES
from app.tags import stem_of

# The text search configuration of note_search_vector() in migration 0011: changing it
# means a new revision that rebuilds every vector (see docs/search.md).
CONFIG = "english"

HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")


def quoted(lexeme):
    """Return a lexeme as a tsquery operand."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class Phrase:
    """A term's lexemes in order: (distance from the previous one, lexeme, matches as prefix)."""

    words: tuple
    excluded: bool

    def tsquery(self):
        """Return this phrase in tsquery syntax, its words at their distances."""
        parts = []
        for distance, lexeme, prefix in self.words:
            if parts:
                parts.append("<->" if distance == 1 else f"<{distance}>")
            parts.append(quoted(lexeme) + (":*" if prefix else ""))
        return ("!" if self.excluded else "") + "(" + " ".join(parts) + ")"

    def keys(self, key):
        """Return this phrase's words as index keys, each with `key` in front, all required."""
        return [quoted(key + lexeme) + (":*" if prefix else "") for _, lexeme, prefix in self.words]


@dataclass(frozen=True)
class TextQuery:
    """A parsed query, normalized by PostgreSQL into phrases of lexemes."""

    phrases: tuple

    @property
    def has_words(self):
        """Whether anything is left to search for (stop words and punctuation are not)."""
        return bool(self.phrases)

    @property
    def keys_suffice(self):
        """Whether the index's keys alone decide a match: single words, none excluded.

        Then the stored vector need not be read to check each candidate (a phrase's
        order or an exclusion needs it; the index has neither positions nor absences).
        """
        return all(len(phrase.words) == 1 and not phrase.excluded for phrase in self.phrases)

    @property
    def looks_for_something(self):
        """Whether some phrase must be present (a query of exclusions alone lists everything)."""
        return any(not phrase.excluded for phrase in self.phrases)

    def tsquery(self):
        """Return the whole query in tsquery syntax, for note.search_vector: every phrase holds."""
        return " & ".join(phrase.tsquery() for phrase in self.phrases)

    def keys(self, user_id):
        """Return the query of the search index: the user's own words that must all be there.

        The index has no positions, and leaving a word out of it finds more notes, never
        fewer: so phrases become their words, and exclusions are left to tsquery().
        """
        words = (phrase.keys(f"{user_id}:") for phrase in self.phrases if not phrase.excluded)
        return " & ".join(key for keys in words for key in keys)


LEXEMES = text(
    "SELECT t.n, v.lexeme, v.positions"
    " FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY AS t(term, n),"
    " unnest(to_tsvector(CAST(:config AS regconfig), t.term)) AS v"
)


def phrase_of(term, placed, korean_prefixes):
    """Return a term as a Phrase of its (position, lexeme) pairs, in order.

    Up to `korean_prefixes` of its Korean words match as prefixes, without the particles typed
    after them (회의록은 finds 회의록, 회의록을 and 회의록은).
    """
    words = []
    for number, (position, lexeme) in enumerate(placed):
        last = number == len(placed) - 1
        prefix = term.prefix and last
        if not prefix and korean_prefixes > 0 and HANGUL.search(lexeme):
            prefix, korean_prefixes = True, korean_prefixes - 1
            lexeme = stem_of(lexeme)
        distance = position - placed[number - 1][0] if number else 0
        words.append((distance, lexeme, prefix))
    return Phrase(tuple(words), term.excluded)


def phrases_of(terms, found):
    """Yield the terms that have lexemes as Phrases, within the query's prefix budget."""
    spare = MAX_PREFIXES - sum(term.prefix for term in terms)
    for index, term in enumerate(terms):
        # A term of stop words or punctuation only has no lexemes, and drops out.
        if index in found:
            phrase = phrase_of(term, sorted(found[index]), spare)
            spare -= sum(prefix for _, _, prefix in phrase.words) - term.prefix
            yield phrase


def normalize(terms):
    """Return the terms as PostgreSQL's configuration normalizes them, in one query."""
    if not terms:
        return TextQuery(())
    found = {}
    rows = db.session.execute(LEXEMES, {"terms": [term.text for term in terms], "config": CONFIG})
    for n, lexeme, positions in rows:
        found.setdefault(n - 1, []).extend((position, lexeme) for position in positions)
    return TextQuery(tuple(phrases_of(terms, found)))
