"""A note as a Markdown file: the same name and front matter as an export's `notes/*.md`.

The server writes these files in app/frontmatter.py, app/models/notes.py (Note.markdown) and
app/features/mypage/export.py (NoteFileNames); the client cannot import the app, so the
small format is copied here, and tests/test_sync_client.py checks that both write the same
file for the same note. The format:

    ---
    id: 42
    revision: 7
    title: "회의록"
    tags: ["회의록"]
    pinned: false
    completed: false
    archived: null
    trashed: null
    created: "2026-11-01T09:30:00+00:00"
    updated: "2026-11-20T07:59:00+00:00"
    ---

    # 회의록

    the content

Each value is JSON (which is also YAML). Reading keeps the keys it knows and skips a value
it cannot read, as the server's import does.
"""

import json
import unicodedata
from dataclasses import dataclass

FENCE = "---"
MAX_LINES = 20
KEYS = ("id", "revision", "title", "tags", "pinned", "completed", "archived", "trashed")
KEYS += ("created", "updated")
NAME_MAX_LENGTH = 255  # the server's ATTACHMENT_NAME_MAX_LENGTH: clean_name's cut
EXTENSION_MAX_LENGTH = 16
NOTE_NAME_MAX_LENGTH = 80  # a file's name is cut to this many characters before its ".md"
SUFFIX = ".md"


def write_front_matter(fields):
    """Return the front matter block (with its closing fence and a blank line) for `fields`."""
    lines = [
        f"{key}: {json.dumps(fields[key], ensure_ascii=False)}" for key in KEYS if key in fields
    ]
    return "\n".join([FENCE, *lines, FENCE, "", ""])


def read_front_matter(text):
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


def note_text(note):
    """Return the file's text of a note as the API gives it (Note.markdown() on the server)."""
    fields = {
        "id": note["id"],
        "revision": note["revision"],
        "title": note["title"],
        "tags": list(note["tags"]),
        "pinned": note["pinned"],
        "completed": note["completed"],
        "archived": note.get("archived_at"),
        "trashed": None,  # a synced folder holds no note of the trash
        "created": note["created_at"],
        "updated": note["updated_at"],
    }
    return f"{write_front_matter(fields)}# {note['title']}\n\n{note['content']}\n"


def draft_text(draft, **fields):
    """Return the text of a file that is no note of the server yet (a conflict's local side, a
    note that comes back): the draft's title and content, with `fields` as front matter."""
    block = write_front_matter(fields) if fields else ""
    return f"{block}# {draft.title}\n\n{draft.content}\n"


@dataclass(frozen=True)
class Draft:
    """What a file says a note is: its id and revision when it came from the server."""

    title: str
    content: str
    pinned: bool = False
    completed: bool = False
    archived: bool = False
    trashed: bool = False
    id: int | None = None
    revision: int | None = None

    def body(self):
        """Return the fields a PATCH sends."""
        return {
            "title": self.title,
            "content": self.content,
            "pinned": self.pinned,
            "completed": self.completed,
            "archived": self.archived,
        }

    def same_as(self, note):
        """Return whether the server's note says what this file says."""
        return self.body() == {key: note[key] for key in self.body()}


def whole(value):
    """Return a front matter value that is a whole number, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_draft(name, text):
    """Read a file's text as a Draft. The title is the heading's when it was edited, else the
    front matter's (which keeps a title exactly), else the file's name, as the import reads."""
    stem = name.rsplit("/", 1)[-1].removesuffix(SUFFIX) or name
    fields, body = read_front_matter(text)
    first, _, rest = body.partition("\n")
    heading, content = None, body
    if first.startswith("# "):
        heading, content = first[2:].strip(), rest.lstrip("\n")
    written = fields.get("title") if isinstance(fields.get("title"), str) else None
    if heading and (not written or heading != written.strip()):
        title = heading
    else:
        title = written if written and written.strip() else heading or stem
    if fields and content.endswith("\n"):  # the line end the writer adds after the text
        content = content[:-1]
    return Draft(
        title=title,
        content=content,
        pinned=fields.get("pinned") is True,
        completed=fields.get("completed") is True,
        archived=isinstance(fields.get("archived"), str),
        trashed=isinstance(fields.get("trashed"), str),
        id=whole(fields.get("id")),
        revision=whole(fields.get("revision")),
    )


def is_hidden_character(char):
    """Return whether a character is a control, format (bidi override, zero-width) or unassigned."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn")


def clean_name(raw):
    """Return a file name safe to store and show: last path segment, no hidden characters
    (the server's app/features/attachments/naming.py)."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if not is_hidden_character(char)).strip(" .")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= EXTENSION_MAX_LENGTH:
            name = f"{stem[: NAME_MAX_LENGTH - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            name = name[:NAME_MAX_LENGTH].rstrip(" .")
    return name


def file_stem(title, note_id):
    """Return the stem an export names a note's file by: its title, cleaned and cut."""
    return clean_name(title)[:NOTE_NAME_MAX_LENGTH].rstrip(" .") or str(note_id)


class FileNames:
    """Names notes' files as an export does ("회의록.md", "회의록 (2).md"), each unique among
    the names `taken` (compared case-folded, as the export does)."""

    def __init__(self, taken=()):
        self.taken = {name.casefold() for name in taken}
        self.last_number = {}

    def take(self, name):
        """Mark `name` as used."""
        self.taken.add(name.casefold())

    def name(self, stem):
        """Return the first free name for `stem`, and mark it used."""
        number = self.last_number.get(stem.casefold(), 1)  # 1: the stem alone
        name = f"{stem}{SUFFIX}" if number == 1 else f"{stem} ({number}){SUFFIX}"
        while name.casefold() in self.taken:
            number += 1
            name = f"{stem} ({number}){SUFFIX}"
        self.last_number[stem.casefold()] = number
        self.take(name)
        return name
