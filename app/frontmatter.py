"""A note's front matter in the Markdown files of an export: one owner for writing and reading.

    ---
    id: 42
    revision: 7
    title: "회의록"
    tags: ["회의록", "work"]
    pinned: true
    completed: false
    archived: null
    trashed: "2026-11-20T08:00:00+00:00"
    created: "2026-11-01T09:30:00+00:00"
    updated: "2026-11-20T07:59:00+00:00"
    ---

Each value is JSON, which is also YAML: a Markdown tool that reads YAML front matter reads it,
and Memo reads it back without a YAML parser (nothing in it can run or expand). Reading takes
at most MAX_LINES lines, keeps only the keys it knows, and skips a value it cannot read: the
file is still imported, as a note with its text.
"""

import json

FENCE = "---"
MAX_LINES = 20
KEYS = (
    "id",
    "revision",
    "title",
    "tags",
    "pinned",
    "completed",
    "archived",
    "trashed",
    "created",
    "updated",
)


def write(fields):
    """Return the front matter block (with its closing fence and a blank line) for `fields`."""
    lines = [
        f"{key}: {json.dumps(fields[key], ensure_ascii=False)}" for key in KEYS if key in fields
    ]
    return "\n".join([FENCE, *lines, FENCE, "", ""])


def read(text):
    """Return (the fields read, the text after the block); ({}, text) without a block."""
    if not text.startswith(FENCE + "\n"):
        return {}, text
    lines = text.split("\n", MAX_LINES + 2)
    try:
        end = lines.index(FENCE, 1, MAX_LINES + 2)
    except ValueError:
        return {}, text
    fields = {}
    for line in lines[1:end]:
        key, colon, value = line.partition(":")
        if not colon or key.strip() not in KEYS:
            continue
        try:
            fields[key.strip()] = json.loads(value)
        except ValueError:
            continue
    return fields, "\n".join(lines[end + 1 :]).lstrip("\n")
