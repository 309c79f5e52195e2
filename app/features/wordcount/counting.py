"""Counting words: the visible text of a page, its words, and their counts (pure functions)."""

import heapq
import re
import unicodedata
from collections import Counter
from functools import cache

from app.features.wordcount.stopwords import is_stop_word

# Each count keeps its most frequent words only, so a stored result stays a few kilobytes.
TOP_WORDS = 100
# A longer run of letters is a hash, an identifier or encoded data, not a word.
LONGEST_WORD = 40

# What a reader never sees: everything in <head>, scripts, styles and the like.
HIDDEN_ELEMENTS = [
    "head", "script", "style", "noscript", "template", "iframe", "title", "noembed", "noframes",
]  # fmt: skip
# Phrasing elements: a tag boundary inside them does not separate words (<b>W</b>ord).
INLINE_ELEMENTS = [
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i",
    "kbd", "mark", "q", "ruby", "s", "samp", "small", "span", "strong", "sub", "sup",
    "time", "u", "var", "wbr",
]  # fmt: skip


@cache
def word_pattern():
    """Return the regex of a word, built on first use (scanning Unicode takes ~0.1 s)."""
    # Python's \w leaves out combining marks, which would cut words of Hindi, Thai and other
    # scripts (and decomposed accents) in pieces; apostrophes are kept and trimmed afterwards,
    # so that one inside a word stays (don't, o'clock) and quotes around it go.
    return re.compile(rf"[\w'{combining_marks()}]+")


def combining_marks():
    """Return a regex character class of every combining mark (Unicode category M)."""
    # Marks live in planes 0, 1 and 14 only; scanning just those keeps the import quick.
    codes = (code for plane in (0, 1, 14) for code in range(plane << 16, (plane + 1) << 16))
    ranges = []
    for code in codes:
        if unicodedata.category(chr(code))[0] != "M":
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in ranges)


# Curly and modifier apostrophes count as "'"; an underscore joins identifiers, not words.
PUNCTUATION = str.maketrans({"\u2019": "'", "\u02bc": "'", "\uff07": "'", "_": " "})


def visible_text(html):
    """Return the text a reader sees on an HTML page, without scripts, styles or markup.

    The page is parsed as a browser parses it (lexbor, through selectolax: linear time, where
    Python 3.11's html.parser is quadratic on inputs such as "<a<a<a..."). Hidden elements
    go; inline ones are unwrapped and their text joined, so only block boundaries separate
    words.
    """
    # Only a fetched page is parsed (the worker's count): the web counts notes, which are text.
    from selectolax.lexbor import LexborHTMLParser  # a fetched page only (the worker)

    tree = LexborHTMLParser(html)
    tree.strip_tags(HIDDEN_ELEMENTS)
    tree.unwrap_tags(INLINE_ELEMENTS)
    tree.merge_text_nodes()
    return tree.body.text(separator=" ") if tree.body is not None else ""


def words(text):
    """Return the words of `text`, case-folded and Unicode-normalized, in order."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = unicodedata.normalize("NFC", folded).translate(PUNCTUATION)
    found = (token.strip("'") for token in word_pattern().findall(folded))
    return [
        word for word in found if len(word) <= LONGEST_WORD and any(char.isalpha() for char in word)
    ]


def top_words(found, limit=TOP_WORDS):
    """Return how many words there are and the `limit` most frequent, ties alphabetical."""
    counts = Counter(found)
    top = heapq.nsmallest(limit, counts.items(), key=lambda item: (-item[1], item[0]))
    return {
        "total": counts.total(),
        "distinct": len(counts),
        "top": [[word, count] for word, count in top],
    }


def count_words(text):
    """Return the counts of all the words in `text` and of those that are not stop words."""
    found = words(text)
    stop = {word for word in set(found) if is_stop_word(word)}  # each distinct word once
    return top_words(found), top_words(word for word in found if word not in stop)
