"""What changed between two texts of a note, line by line, for the history and conflict pages."""

import difflib
from dataclasses import dataclass

CONTEXT_LINES = 1


@dataclass
class Line:
    """One line of a diff: `kind` is "added", "removed", "same" or "gap" (lines left out)."""

    kind: str
    text: str


KINDS = {"+": "added", "-": "removed", " ": "same"}


def text_diff(old, new):
    """Return the lines that differ from `old` to `new`, with a line of context around each."""
    lines = []
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), n=CONTEXT_LINES, lineterm=""
    ):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if lines:
                lines.append(Line("gap", ""))
            continue
        lines.append(Line(KINDS[line[0]], line[1:]))
    return lines
