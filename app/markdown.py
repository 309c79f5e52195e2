"""A note's Markdown: its HTML, its plain text and its task items (`- [ ] text`).

CommonMark with the GFM extensions people use in notes (task lists, tables, strikethrough,
autolinks), parsed by markdown-it-py and sanitised by nh3 with an allow-list. Raw HTML in a
note is text (`html=False`); a line break is kept as one (`breaks=True`), so a note written
as plain text before looks as it did. An image is never fetched: it is shown as a link to
its address. Every link carries `rel="nofollow noopener"` (`noreferrer` too where asked).
`[[…]]` links between notes are app/wikilinks.py's. Neither module imports the rest of
Memo: tags, search and the models read plain_text().
"""

import html as html_text
import re
import secrets
from functools import lru_cache
from typing import NamedTuple

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.rules_block import table as gfm_table
from markupsafe import Markup, escape
from mdit_py_plugins.tasklists import tasklists_plugin

from app.wikilinks import wikilinks_plugin

# The work of a note's Markdown is bounded, not only its 20,000 characters (docs/security.md):
# GFM fills every row of a table to its header's width, so a wide header over many short rows
# made 65,536 cells of one small text. markdown-it-py 4.3 bounds the cells it fills in with a
# module constant (65,536), not an option of the parser's; this parser keeps its own bound
# instead, through its rules (public): a table ends at the line where the cells filled in pass
# FILLED_CELLS_MAX (the rest of its lines are text, as the library does at its own bound), and
# a note's tables hold TABLE_CELLS_MAX cells in all (past it, a table is text). Nesting is
# bounded by the preset's maxNesting (20).
FILLED_CELLS_MAX = 1000
TABLE_CELLS_MAX = 5000
NESTING_MAX = 20
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")

PARSER = (
    MarkdownIt(
        "commonmark",
        {"html": False, "breaks": True, "linkify": True, "maxNesting": NESTING_MAX},
    )
    .enable(["table", "strikethrough", "linkify"])
    .use(tasklists_plugin)
    .use(wikilinks_plugin)
)


def row_text(state, line):
    """Return a line as the table rule reads it: indent and CommonMark's spaces trimmed."""
    return mdTrim(state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]])


def row_width(text):
    """Return how many cells the table rule reads in a row's `text`: its pipes not escaped
    split it, and an opening and a closing pipe are not cells (markdown-it's escapedSplit)."""
    cells = len(UNESCAPED_PIPE.findall(text)) + 1
    if text.startswith("|"):
        cells -= 1
    if len(text) > 1 and UNESCAPED_PIPE.match(text, len(text) - 1):
        cells -= 1
    return cells


def table_end(state, start_line, end_line):
    """Return the line where the table at `start_line` is ended by FILLED_CELLS_MAX: its first
    row whose cells filled in to the header's width pass it; else `end_line`. The rows are
    read as the table rule reads them (markdown-it-py 4.3, rules_block/table.py): a row ends
    the table where a blockquote would end, at a blank or a code line, or outdented."""
    width = len([part for part in row_text(state, start_line + 1).split("|") if part.strip()])
    filled = 0
    terminators = state.md.block.ruler.getRules("blockquote")
    outer, state.parentType = state.parentType, "table"  # the rule's own, while it reads rows
    try:
        for line in range(start_line + 2, end_line):
            if (
                state.sCount[line] < state.blkIndent
                or any(rule(state, line, end_line, True) for rule in terminators)
                or not row_text(state, line)
                or state.is_code_block(line)
            ):
                return end_line
            filled += width - row_width(row_text(state, line))
            if filled > FILLED_CELLS_MAX:
                return line
        return end_line
    finally:
        state.parentType = outer


def bounded_table(state, start_line, end_line, silent):
    """GFM's table rule, each table ended by FILLED_CELLS_MAX, until the note's tables hold
    TABLE_CELLS_MAX cells."""
    cells = state.env.get("table_cells", 0)
    if cells >= TABLE_CELLS_MAX:
        return False
    if silent:
        return gfm_table(state, start_line, end_line, True)
    if not gfm_table(state, start_line, end_line, True):  # no table starts here
        return False
    before = len(state.tokens)
    found = gfm_table(state, start_line, table_end(state, start_line, end_line), silent)
    # Each cell is three tokens: its opening, its text and its closing.
    state.env["table_cells"] = cells + (len(state.tokens) - before) // 3
    return found


PARSER.block.ruler.at("table", bounded_table, {"alt": ["paragraph", "reference"]})
# What the rendered HTML may hold: what the parser writes for the constructs above, and no
# attribute but a link's address, a numbered list's start and the task list classes.
TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "s", "a"),
    *("h2", "h3", "h4", "h5", "h6", "ul", "ol", "li"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
CLASSES = {"ul": {"contains-task-list"}, "li": {"task-list-item"}}
# Built once each: on the note page, and on a page others see (a share link).
CLEANERS = {
    external: nh3.Cleaner(
        tags=TAGS,
        attributes=ATTRIBUTES,
        allowed_classes=CLASSES,
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",  # a note links out, never to a page of Memo's
        link_rel="nofollow noopener noreferrer" if external else "nofollow noopener",
    )
    for external in (False, True)
}
# The first line of a task item's paragraph: its containers' marks, then the box.
TASK_BOX = re.compile(r"(?:[ \t]*(?:>|[-*+](?=[ \t])|[0-9]{1,9}[.)](?=[ \t])))*[ \t]*\[([ xX])\]")
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def image_as_link(renderer, tokens, index, options, env):
    """Render an image as a link to it, named by its alt text: nothing is fetched."""
    token = tokens[index]
    src = token.attrGet("src") or ""
    label = "".join(child.content for child in token.children or ()) or src
    return f'<a href="{escape(src)}">{escape(label)}</a>'


PARSER.add_render_rule("image", image_as_link)


def is_task(token):
    """Return whether an inline token is a task item's text (the plugin put a box first)."""
    children = token.children or ()
    return (
        bool(children) and children[0].type == "html_inline" and "task-list" in children[0].content
    )


def parse(content):
    """Return the token stream of a note's content."""
    return PARSER.parse(content or "", {})


def render(content, task=None, external=False, link=None, env=None):
    """Return the content as sanitised HTML.

    `task(number, done, text)` returns the Markup of task item `number`'s box (a form
    button on the note page); without it a box is a plain mark. `link(target, words)` the
    Markup of a `[[…]]` link (app/wikilinks.py); without it, its words. `external`: the page
    is seen by others (a share link): links also get `noreferrer`. `env` keeps the parse's
    findings: its "links", each (target, words).
    """
    nonce = secrets.token_hex(8)  # marks a box's place; a note cannot guess it
    env = {} if env is None else env
    env["nonce"] = nonce
    tokens = PARSER.parse(content or "", env)
    boxes = []
    for token in tokens:
        if token.type.startswith("heading_"):  # the page's title is the only h1
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        if token.type == "inline" and is_task(token):
            box = token.children[0]
            boxes.append(('checked="checked"' in box.content, plain_of_inline(token)))
            box.type, box.content = "text", f"{nonce}-{len(boxes) - 1}."
    html = CLEANERS[external].clean(PARSER.renderer.render(tokens, PARSER.options, env))
    # A code block or table wider than the page scrolls: reachable by keyboard too.
    html = html.replace("<pre>", '<pre tabindex="0">').replace("<table>", '<table tabindex="0">')
    for number, (done, text) in enumerate(boxes):
        widget = task(number, done, text) if task else plain_box(done)
        html = html.replace(f"{nonce}-{number}.", str(widget), 1)
    for number, (target, words) in enumerate(env.get("links", ())):
        shown = (link or plain_link)(target, words)
        html = html.replace(f"{nonce}-link-{number}.", str(shown), 1)
    return Markup(html)  # noqa: S704  (nh3's output, and the boxes' and links' own Markup)


def plain_link(target, words):
    """Return a `[[…]]` link as its words (its target when it has none): a page that does
    not resolve links (a share link's, a feed's) names no other note."""
    return escape(words or target)


# A task box's place in stored HTML: nh3 escapes every "<" of a note's text, and markdown-it
# percent-encodes it in addresses, so only render_stored() writes one.
STORED_BOX = re.compile(r'<memo-box ([0-9]{1,5}) ([01]) "([^"<>]*)">')
STORED_WIKILINK = re.compile(r'<memo-link "([^"<>]*)" "([^"<>]*)">')
# Every link of stored HTML, as the note page's cleaner wrote it: its attributes, each quoted
# (nh3 escapes a value's quotes), rel last.
STORED_LINK = re.compile(r'(<a(?: [a-z]+="[^"]*")* rel="nofollow noopener)(">)')


def stored_box(number, done, text):
    """Return the mark of task item `number`'s place in stored HTML."""
    return Markup('<memo-box %d %d "%s">') % (number, int(done), text)


def stored_link(target, words):
    """Return the mark of a `[[…]]` link in stored HTML: its target and words as written."""
    return Markup('<memo-link "%s" "%s">') % (target, words or "")


class Stored(NamedTuple):
    """What the writer stores of a note's content: its HTML and its links' targets."""

    html: str
    links: list


def render_stored(content):
    """Return the content's sanitised HTML to store with the note (app/features/notes/service.py),
    each task box and `[[…]]` link a mark that html_of() fills in, and the links' targets."""
    env = {}
    html = str(render(content, task=stored_box, link=stored_link, env=env))
    return Stored(html, [target for target, _ in env.get("links", ())])


def link_targets(html):
    """Return the targets of the `[[…]]` links in a note's stored HTML, in their order."""
    return [html_text.unescape(found[1]) for found in STORED_WIKILINK.finditer(html or "")]


def is_stored(note):
    """Return whether the note's stored HTML is its text's."""
    return note.rendered is not None and note.rendered_version == note.version


def html_of(note, task=None, external=False, link=None):
    """Return a note's HTML as render() would: from its stored HTML while that is its text's
    (nothing parsed), else rendered in memory (nothing written: a GET never commits)."""
    if not is_stored(note):
        return render(note.content, task=task, external=external, link=link)
    stored = note.rendered
    if external:  # a page others see: links carry noreferrer too
        stored = STORED_LINK.sub(r"\1 noreferrer\2", stored)

    def wikilink(match):
        words = html_text.unescape(match[2]) or None
        return str((link or plain_link)(html_text.unescape(match[1]), words))

    stored = STORED_WIKILINK.sub(wikilink, stored)

    def box(match):
        number, done, text = int(match[1]), match[2] == "1", html_text.unescape(match[3])
        return str(task(number, done, text) if task else plain_box(done))

    return Markup(STORED_BOX.sub(box, stored))  # noqa: S704  (nh3's output and the boxes')


def plain_box(done):
    """Return a task's box as a mark that is not a control."""
    return Markup('<span class="box" aria-hidden="true">%s</span>') % ("☑" if done else "☐")


def plain_of_inline(token):
    """Return the text of an inline token: words, code and link texts, no marks."""
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline") or child.type == "wikilink":
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(plain_of_inline(child))
    return "".join(parts).strip()


class Summary(NamedTuple):
    """What a note's text says, read once a save: its plain text, a preview line, its task
    items' counts and its first open ones as (number, text) pairs (the list shows those;
    tags, search and word counts read the plain text)."""

    plain: str
    preview: str
    tasks_done: int
    tasks_total: int
    open_tasks: tuple = ()


PREVIEW_LENGTH = 140  # characters of the list's preview line
# The list offers a note's first open task items to tick, this many, each cut this short:
# a row's work stays a few template operations (docs/performance.md).
OPEN_TASKS_LISTED = 3
TASK_TEXT_LENGTH = 80


def cut(text, length):
    """Return `text` on one line, at most `length` characters (an ellipsis where cut)."""
    line = " ".join(text[: length * 4].split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"


@lru_cache(maxsize=8)  # a new note's columns each ask for it (app/models/notes.py)
def summary(content):
    """Return the Summary of a note's content."""
    blocks, done, total, still_open = [], 0, 0, []
    for token in parse(content):
        if token.type == "inline":
            blocks.append(plain_of_inline(token))
            if is_task(token):
                ticked = 'checked="checked"' in token.children[0].content
                if not ticked and len(still_open) < OPEN_TASKS_LISTED:
                    still_open.append((total, cut(blocks[-1], TASK_TEXT_LENGTH)))
                total += 1
                done += ticked
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    plain = "\n".join(block for block in blocks if block)
    return Summary(plain, cut(plain, PREVIEW_LENGTH), done, total, tuple(still_open))


def plain_text(content):
    """Return what a note says without its markup: one block a line."""
    return summary(content or "").plain


def task_text(content, number):
    """Return the plain text of task item `number` (from 0), or None when it has none."""
    found = [token for token in parse(content) if token.type == "inline" and is_task(token)]
    return plain_of_inline(found[number]) if 0 <= number < len(found) else None


def set_task(content, number, done):
    """Return the content with task item `number` (from 0) ticked or not; None if it has none."""
    found = [token for token in parse(content) if token.type == "inline" and is_task(token)]
    if not 0 <= number < len(found):
        return None
    lines = LINE.findall(content)
    row = found[number].map[0]
    match = TASK_BOX.match(lines[row])
    if match is None:
        return None
    mark = "x" if done else " "
    lines[row] = lines[row][: match.start(1)] + mark + lines[row][match.end(1) :]
    return "".join(lines)
