"""What a search result shows: its matches marked by ts_headline, cut to short excerpts, as HTML."""

import re

from markupsafe import Markup, escape
from sqlalchemy import func

# ts_headline marks matches with these; a note cannot hold them (forms refuse control
# characters) and they are stripped before highlighting anyway, so every character
# outside the marks is the note's own text, escaped as such. HighlightAll keeps the
# whole text: in fragment mode ts_headline drops whatever looks like an HTML tag.
START, STOP = "\x01", "\x02"
MARKED = re.compile(f"{START}(.*?){STOP}", re.DOTALL)
HEADLINE_OPTIONS = f'HighlightAll=true, StartSel="{START}", StopSel="{STOP}"'
CONTEXT = 80  # characters of a snippet around each match
FRAGMENTS = 2  # matches a snippet shows at most
WORD_REACH = 20  # characters a snippet's edge moves to avoid cutting a word
# An excerpt's window: about CONTEXT characters each side of a match, moved to word edges;
# matches close together share one, up to this size, and nothing makes one longer.
MAX_WINDOW = 2 * (CONTEXT + WORD_REACH) + 60


def highlighted(marked):
    """Return ts_headline's output as HTML: all of it escaped, the matches in <mark>."""
    pieces = MARKED.split(marked)
    html = Markup()
    for number, piece in enumerate(pieces):
        piece = piece.replace(START, "").replace(STOP, "")
        if number % 2 == 0:
            html += escape(piece)
        elif piece:
            html += Markup("<mark>%s</mark>") % piece
    return html


def widened(marked, start, end):
    """Move a window's edges out of any match they fall inside, then to word boundaries."""
    opened = marked.rfind(START, 0, start)
    if opened != -1 and marked.rfind(STOP, 0, start) < opened:
        start = opened
    opened = marked.rfind(START, 0, end)
    if opened != -1 and marked.rfind(STOP, 0, end) < opened:
        end = marked.find(STOP, end) + 1 or len(marked)
    # A word longer than this (a web address, Korean written without spaces) is cut.
    start_limit, end_limit = max(0, start - WORD_REACH), min(len(marked), end + WORD_REACH)
    while start > start_limit and not marked[start - 1].isspace():
        start -= 1
    while end < end_limit and not marked[end].isspace():
        end += 1
    return start, end


def excerpt(marked, cut=False, plain=str):
    """Return the parts of a marked text around its first matches, joined by ellipses.

    `cut`: the text is the searched prefix of a longer content, which goes on after it.
    `plain` turns each part into the text it shows (a note's Markdown into its plain text),
    before its lines are joined.
    """
    spans = [(m.start(), m.end()) for m in MARKED.finditer(marked)] or [(0, CONTEXT)]
    windows = []
    for first, last in spans:
        start, end = widened(marked, max(0, first - CONTEXT), min(len(marked), last + CONTEXT))
        if windows and start <= windows[-1][1]:
            # Dense matches would otherwise merge into one window as long as the note.
            if end - windows[-1][0] <= MAX_WINDOW:
                windows[-1] = (windows[-1][0], end)
        elif len(windows) < FRAGMENTS:
            windows.append((start, end))
        else:
            break
    windows = [(start, min(end, start + MAX_WINDOW)) for start, end in windows]
    pieces = [" ".join(plain(marked[start:end]).split()) for start, end in windows]
    return (
        ("… " if windows[0][0] > 0 else "")
        + " … ".join(pieces)
        + (" …" if cut or windows[-1][1] < len(marked) else "")
    )


def marks_removed(column):
    """Return SQL for the column's text without the characters that ts_headline marks with."""
    return func.translate(column, START + STOP, "")
