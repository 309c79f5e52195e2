"""Counting words: the visible text of a page, its words, and their counts (pure functions)."""

import heapq
import re
import unicodedata
from collections import Counter
from functools import cache
from html import unescape

from app.wordcount.stopwords import STOP_WORDS

# Each count keeps its most frequent words only, so a stored result stays a few kilobytes.
TOP_WORDS = 100
# A longer run of letters is a hash, an identifier or encoded data, not a word.
LONGEST_WORD = 40

# Elements whose content is raw text up to their end tag (as browsers read them); all but
# textarea are never shown, and neither is anything else inside <head>.
RAW_TEXT_ELEMENTS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "title", "textarea", "xmp",
     "noembed", "noframes"}
)  # fmt: skip
VISIBLE_RAW_TEXT = frozenset({"textarea", "xmp"})
# What may stand in <head>; anything else starts the body even without a <body> tag.
HEAD_ELEMENTS = frozenset(
    {"base", "link", "meta", "noscript", "script", "style", "template", "title"}
)
# Phrasing elements: a tag boundary inside them does not separate words (<b>W</b>ord).
INLINE_ELEMENTS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i",
        "kbd", "mark", "q", "ruby", "s", "samp", "small", "span", "strong", "sub", "sup",
        "time", "u", "var", "wbr",
    }
)  # fmt: skip


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


# A linear scan, not html.parser: Python 3.11.7's HTMLParser takes quadratic time on inputs
# such as "<a<a<a...", which a 2 MB page could use to hold a worker for minutes.
# Where markup may start; any other "<" is text.
MARKUP = re.compile(r"<[a-zA-Z!/?]")
TAG_START = re.compile(r"<(/?)([a-zA-Z][^\t\n\f\r />]*)")
# The rest of a tag up to ">", which a quoted attribute value may contain. Possessive, so a
# tag that never ends costs one pass, after which the page ends (as in a browser).
TAG_END = re.compile(r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")
RAW_TEXT_END = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in RAW_TEXT_ELEMENTS
}


class VisibleText:
    """Collect the text of an HTML page that a reader sees, in one pass over the markup."""

    def __init__(self, html):
        self.html = html
        self.parts = []
        self.in_head = False

    def scan(self):
        """Return the visible text, with a space wherever a block-level tag stood."""
        html, position = self.html, 0
        while position < len(html):
            found = MARKUP.search(html, position)
            start = found.start() if found else len(html)
            self.text(html[position:start])
            if found is None:
                break
            position = self.markup(start)
            if position is None:  # the page ends inside a tag or comment
                break
        return "".join(self.parts)

    def markup(self, start):
        """Read the markup at `start`; return where the text after it begins, or None."""
        html = self.html
        if html.startswith("<!--", start):
            end = html.find("-->", start + 4)
            return None if end < 0 else end + 3
        tag = TAG_START.match(html, start)
        if tag is None:  # a doctype, processing instruction or other bogus comment
            end = html.find(">", start + 2)
            return None if end < 0 else end + 1
        rest = TAG_END.match(html, tag.end())
        if rest is None:
            return None
        name = tag.group(2).lower()
        if name not in INLINE_ELEMENTS:
            self.parts.append(" ")
        if tag.group(1):  # an end tag
            self.in_head = self.in_head and name != "head"
            return rest.end()
        self.in_head = name == "head" or (self.in_head and name in HEAD_ELEMENTS)
        if name not in RAW_TEXT_ELEMENTS:
            return rest.end()
        end_tag = RAW_TEXT_END[name].search(html, rest.end())
        end = end_tag.start() if end_tag else len(html)
        if name in VISIBLE_RAW_TEXT:
            self.text(html[rest.end() : end])
        return end

    def text(self, chunk):
        if chunk and not self.in_head:
            self.parts.append(unescape(chunk))


def visible_text(html):
    """Return the text a reader sees on an HTML page, without scripts, styles or markup."""
    return VisibleText(html).scan()


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
    return top_words(found), top_words(word for word in found if word not in STOP_WORDS)
