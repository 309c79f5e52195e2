"""Links between notes in a note's Markdown: `[[Title]]`, `[[Title|words]]` and `[[#42]]`.

A markdown-it-py plugin written as mdit-py-plugins' own are (an inline rule and a render rule
added through the parser's public API): the rule reads a link's target and words, bounded as
every inline is (no line break, no bracket, at most TARGET_MAX characters, LINKS_MAX a note:
past it a `[[…]]` is text), and never inside a link's text. It renders as a mark the page
fills in (app/markdown.py): who a title names is known only when the page is read, since
titles change. A title is compared folded: NFKC, then case-folded, NFKC again.
This module imports nothing of Memo's.
"""

import re
import unicodedata
from typing import NamedTuple

LINKS_MAX = 500  # a note's links; past them a `[[…]]` is its text (docs/security.md)
TARGET_MAX = 200  # a title's characters (TITLE_MAX_LENGTH), and as many for the words
BY_ID = re.compile(r"#([0-9]{1,18})")
# `[[`, a target without brackets, bars or line breaks, then `|words` or not, then `]]`.
WIKILINK = re.compile(
    rf"\[\[([^\[\]|\r\n]{{1,{TARGET_MAX}}})(?:\|([^\[\]\r\n]{{1,{TARGET_MAX}}}))?\]\]"
)


class Target(NamedTuple):
    """What a link names: a note's id (`[[#42]]`), else its title (`key` folded)."""

    written: str
    note_id: int | None
    key: str | None


def fold(title):
    """Return a title as titles are compared: NFKC, case-folded, NFKC again, spaces squeezed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", title).casefold())
    return " ".join(folded.split())


def target_of(written):
    """Return the Target `written` names, or None when it names nothing."""
    written = written.strip()
    by_id = BY_ID.fullmatch(written)
    if by_id:
        return Target(written, int(by_id[1]), None)
    key = fold(written)
    return Target(written, None, key) if key else None


def wikilink(state, silent):
    """Read a `[[…]]` at the state's position into a `wikilink` token."""
    if not state.src.startswith("[[", state.pos) or state.linkLevel > 0:
        return False
    found = WIKILINK.match(state.src, state.pos, state.posMax)
    if found is None or target_of(found[1]) is None:
        return False
    links = state.env.setdefault("links", [])
    if len(links) >= LINKS_MAX:
        return False
    if not silent:
        target, words = found[1].strip(), found[2] and found[2].strip()
        token = state.push("wikilink", "", 0)
        token.meta = {"number": len(links)}
        # Its plain text (tags, search): its words, or the title it names.
        token.content = words or ("" if BY_ID.fullmatch(target) else target)
        links.append((target, words or None))
    state.pos = found.end()
    return True


def render_wikilink(renderer, tokens, index, options, env):
    """Render a link as its mark: `<nonce>-link-<number>.`, text that the sanitiser keeps."""
    return f"{env.get('nonce', '')}-link-{tokens[index].meta['number']}."


def wikilinks_plugin(md):
    """Add `[[…]]` links to a parser: the rule before the parser's links, and its renderer."""
    md.inline.ruler.before("link", "wikilink", wikilink)
    md.add_render_rule("wikilink", render_wikilink)
