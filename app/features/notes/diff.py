"""What changed between two texts of a note, line by line, for the history and conflict pages.

difflib is quadratic in the worst case (thousands of short unique lines, interleaved: 10,000
of them took 43 s), and both texts may come from a client. So the lines the texts share at
their start and end are set aside first, in linear time, and difflib runs only when the
lines left on each side, multiplied, are within DIFF_PAIRS_BUDGET (an operation budget:
about 0.1 s at worst). Past it, the answer is that the texts differ throughout. At most
DIFF_LINES_SHOWN lines, DIFF_CHARS_SHOWN characters, are returned: a page stays small
whatever the texts.
"""

import difflib
from dataclasses import dataclass

CONTEXT_LINES = 1
DIFF_PAIRS_BUDGET = 250_000
DIFF_LINES_SHOWN = 500
DIFF_CHARS_SHOWN = 50_000


@dataclass
class Line:
    """One line of a diff: `kind` is "added", "removed", "same", "gap" (lines left out),
    "throughout" (too many changes to show, alone) or "cut" (`text`: how many lines more)."""

    kind: str
    text: str


KINDS = {"+": "added", "-": "removed", " ": "same"}
THROUGHOUT = [Line("throughout", "")]


def shared_ends(old, new):
    """Return how many lines `old` and `new` share at their start, and then at their end."""
    start, most = 0, min(len(old), len(new))
    while start < most and old[start] == new[start]:
        start += 1
    end = 0
    while end < most - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start, end


def text_diff(old, new):
    """Return the lines that differ from `old` to `new`, with a line of context around each."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    start, end = shared_ends(old_lines, new_lines)
    if (len(old_lines) - start - end) * (len(new_lines) - start - end) > DIFF_PAIRS_BUDGET:
        return THROUGHOUT
    first = max(start - CONTEXT_LINES, 0)
    old_part = old_lines[first : len(old_lines) - max(end - CONTEXT_LINES, 0)]
    new_part = new_lines[first : len(new_lines) - max(end - CONTEXT_LINES, 0)]
    lines = []
    for line in difflib.unified_diff(old_part, new_part, n=CONTEXT_LINES, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if lines:
                lines.append(Line("gap", ""))
            continue
        lines.append(Line(KINDS[line[0]], line[1:]))
    return shown(lines)


def shown(lines):
    """Return the lines a page shows: the first ones, within the budgets, then how many more."""
    chars = 0
    for number, line in enumerate(lines):
        chars += len(line.text)
        if number >= DIFF_LINES_SHOWN or chars > DIFF_CHARS_SHOWN:
            return [*lines[:number], Line("cut", str(len(lines) - number))]
    return lines
