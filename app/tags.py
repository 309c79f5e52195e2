"""A note's tags: the `#word`s of its title and text (Korean, English or any script).

A tag is `#` then letters, digits, `_` and `-`, after a space, a line's start or punctuation
that is not part of an address (so `example.com/#part` is no tag). Tags are kept folded
(NFKC, then case-folded), so `#Work` and `#work` are one. The content's tags are read from
its plain text (app/markdown.py), not its markup: `[a](https://x.org/#b)` has none.
Neither module imports the app: the models compute a new note's tags with them.

Korean glues its particles to the word: `#회의록은` means the tag 회의록. A Korean ending is
cut off (docs/organise.md, "Tags in Korean text") when it is one of PARTICLES, fits the sound
before it (은/을 after a final consonant, 는/를 after a vowel) and leaves two characters or
more; again, so that `#학생들에게는` is 학생들 (a tag found is always a tag of itself). The
particles that also end many words (이, 가, 의, 도, 로, 과: 고양이, 여름휴가, 국제회의,
실내온도, 고속도로, 경제학과) are cut only when what is left is a tag of the same note too
(`#고양이` stays; `#회의록 … #회의록이` is 회의록 twice).
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


# A Korean particle (or two run together) and the last sound it follows: "C" a syllable with
# a final consonant, "V" one without, "" any (a Latin word or a digit before it: any).
PARTICLES = {
    **{"은": "C", "는": "V", "을": "C", "를": "V", "와": "V", "으로": "C", "이랑": "C"},
    **{"에": "", "에서": "", "에게": "", "한테": "", "까지": "", "부터": "", "처럼": ""},
    **{"보다": "", "마다": "", "에는": "", "에도": "", "에서는": "", "에서도": ""},
    **{"으로는": "C", "와는": "V", "이나": "C", "랑": "V"},
}
# Also the end of many words: cut only when what is left is a tag of the note too.
SHARED_ENDINGS = {"이": "C", "가": "V", "의": "", "도": "", "로": "", "과": "C"}
HANGUL = range(0xAC00, 0xD7A4)  # the precomposed syllables 가 to 힣
STEM_MIN_LENGTH = 2


def fits(stem, sound):
    """Return whether a particle that follows `sound` may follow the last letter of `stem`."""
    last = ord(stem[-1])
    if not sound or last not in HANGUL:
        return True
    return ((last - HANGUL.start) % 28 != 0) == (sound == "C")


def cut(tag, endings):
    """Return `tag` without one of `endings` that fits it, or None if none does."""
    for size in (3, 2, 1):  # the longest ending first: 에서는 before 는
        stem, ending = tag[:-size], tag[-size:]
        sound = endings.get(ending)
        if (
            sound is not None
            and len(stem) >= STEM_MIN_LENGTH
            and stem[-1].isalnum()  # `#회의록-은` keeps its `-은`
            and fits(stem, sound)
        ):
            return stem
    return None


def stem_of(tag):
    """Return `tag` without the Korean particles glued to it (PARTICLES only)."""
    while (stem := cut(tag, PARTICLES)) is not None:
        tag = stem
    return tag


def fold(tag):
    """Return a tag as it is kept and compared: NFKC, case-folded, NFKC again."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())


def note_tags(title, content):
    """Return the note's tags in the order they first appear, each once, at most 50."""
    written = []
    for text in (title or "", plain_text(content)):
        for match in TAG.finditer(text):
            tag = stem_of(fold(match[1].strip("-_")))
            if tag and len(tag) <= TAG_MAX_LENGTH:
                written.append(tag)
    stems = set(written)
    found = []
    for tag in written:
        shared = cut(tag, SHARED_ENDINGS)
        tag = shared if shared in stems else tag
        if tag not in found:
            found.append(tag)
    return found[:TAGS_PER_NOTE]


def tag_name(text):
    """Return the folded tag `text` names (with or without its `#`), or None if it names none:
    its particles cut off as a note's are (`회의록은` names 회의록)."""
    text = (text or "").strip().removeprefix("#")
    return stem_of(fold(text)) if TAG_NAME.fullmatch(text) else None
