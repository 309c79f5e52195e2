"""A note's tags: the `#word`s of its title and text (Korean, English or any script).

A tag is `#` then letters, digits, `_` and `-`, after a space, a line's start or punctuation
that is not part of an address (so `example.com/#part` is no tag). Tags are kept folded
(NFKC, then case-folded), so `#Work` and `#work` are one. The content's tags are read from
its plain text (app/markdown.py), not its markup: `[a](https://x.org/#b)` has none.
Neither module imports the app: the models compute a new note's tags with them.
"""

import re
import unicodedata

from app.markdown import plain_text

# `#` not glued to a word, a slash or another `#`; then the tag's characters.
TAG = re.compile(r"(?<![\w/#&])#([\w-]+)")
TAG_MAX_LENGTH = 64
TAGS_PER_NOTE = 50
TAGS_PER_FILTER = 5  # tags one list or search may ask for at once
# What a tag link or `tag:` names: the same characters, no `#` needed.
TAG_NAME = re.compile(r"[\w-]{1,64}")


def fold(tag):
    """Return a tag as it is kept and compared: NFKC, case-folded, NFKC again."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())


def note_tags(title, content):
    """Return the note's tags in the order they first appear, each once, at most 50."""
    found = []
    for text in (title or "", plain_text(content)):
        for match in TAG.finditer(text):
            tag = fold(match[1].strip("-_"))
            if tag and len(tag) <= TAG_MAX_LENGTH and tag not in found:
                found.append(tag)
    return found[:TAGS_PER_NOTE]


def tag_name(text):
    """Return the folded tag `text` names (with or without its `#`), or None if it names none."""
    text = (text or "").strip().removeprefix("#")
    return fold(text) if TAG_NAME.fullmatch(text) else None
