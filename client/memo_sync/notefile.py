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

import datetime
import json
import re
import unicodedata
from dataclasses import dataclass

FENCE = "---"
MAX_LINES = 20
KEYS = ("id", "revision", "title", "tags", "pinned", "completed", "archived", "trashed")
KEYS += ("created", "updated")
NAME_MAX_LENGTH = 255  # the server's ATTACHMENT_NAME_MAX_LENGTH: clean_name's cut
EXTENSION_MAX_LENGTH = 16
SUFFIX = ".md"


def write_front_matter(fields):
    """Return the front matter block (with its closing fence and a blank line) for `fields`."""
    lines = [
        f"{key}: {json.dumps(fields[key], ensure_ascii=False)}" for key in KEYS if key in fields
    ]
    return "\n".join([FENCE, *lines, FENCE, "", ""])


def read_scalar(raw):
    """Return a front matter value as YAML reads its common spellings: JSON, a quoted string,
    else the plain text (a trailing ` # comment` left out)."""
    value = raw.strip()
    if value[:1] == "'" and value.endswith("'") and len(value) > 1:
        return value[1:-1].replace("''", "'")
    try:
        return json.loads(value)
    except ValueError:
        return value.partition(" #")[0].strip()


def read_front_matter(text):
    """Return (the fields read, the text after the block); ({}, text) without a block."""
    text = text.replace("\r\n", "\n")
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
        if colon and key.strip() in KEYS:
            fields[key.strip()] = read_scalar(value)
    return fields, "\n".join(lines[end + 1 :]).lstrip("\n")


def in_zone(moment, zone):
    """Return an RFC 3339 time of the API in `zone` (as given when it does not parse)."""
    try:
        return datetime.datetime.fromisoformat(moment).astimezone(zone).isoformat()
    except (TypeError, ValueError):
        return moment


def with_line_ends(text, content):
    """Return `text` with one kind of line end: CRLF when the note's content has any."""
    return text.replace("\n", "\r\n") if "\r\n" in content else text


def heading_of(title):
    """Return a title as its heading's one line (a title the API took with a line break would
    otherwise end its heading there, and the next push would cut the title at it)."""
    return title.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def note_text(note, zone=datetime.UTC):
    """Return the file's text of a note as the API gives it (Note.markdown() on the server),
    its times in the account's `zone`."""
    archived = note.get("archived_at")
    fields = {
        "id": note["id"],
        "revision": note["revision"],
        "title": note["title"],
        "tags": list(note["tags"]),
        "pinned": note["pinned"],
        "completed": note["completed"],
        "archived": archived and in_zone(archived, zone),
        "trashed": None,  # a synced folder holds no note of the trash
        "created": in_zone(note["created_at"], zone),
        "updated": in_zone(note["updated_at"], zone),
    }
    content = note["content"].replace("\r\n", "\n")
    text = f"{write_front_matter(fields)}# {heading_of(note['title'])}\n\n{content}\n"
    return with_line_ends(text, note["content"])


def draft_text(draft, **fields):
    """Return the text of a file that is no note of the server yet (a conflict's local side, a
    note that comes back): the draft's title and content, with `fields` as front matter."""
    block = write_front_matter(fields) if fields else ""
    content = draft.content.replace("\r\n", "\n")
    return with_line_ends(f"{block}# {heading_of(draft.title)}\n\n{content}\n", draft.content)


@dataclass(frozen=True)
class Draft:
    """What a file says a note is: its id and revision when it came from the server, and the
    front matter values it could not read (left as the server has them)."""

    title: str
    content: str
    pinned: bool = False
    completed: bool = False
    archived: bool = False
    trashed: bool = False
    id: int | None = None
    revision: int | None = None
    unreadable: tuple = ()  # ((key, value as written), ...)

    def body(self):
        """Return the fields a PATCH sends (not those whose value could not be read)."""
        body = {
            "title": self.title,
            "content": self.content,
            "pinned": self.pinned,
            "completed": self.completed,
            "archived": self.archived,
        }
        for key, _ in self.unreadable:
            body.pop(key, None)
        return body

    def same_as(self, note):
        """Return whether the server's note says what this file says."""
        return self.body() == {key: note.get(key) for key in self.body()}


TRUE_WORDS, FALSE_WORDS = {"true", "yes", "on"}, {"false", "no", "off", "null", "~", ""}
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([Tt ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)? *([Zz]|[+-]\d{2}(:?\d{2})?)?"
)


class Unreadable(ValueError):
    """A front matter value none of YAML's usual spellings of its kind."""


def flag(value, times=False):
    """Return a front matter value as a flag: YAML's yes/no/true/false/on/off in any case,
    quoted or not, and null; with `times`, a date or time (archived, trashed) is true."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        if times and ISO_TIME.fullmatch(value.strip()):
            return True
    raise Unreadable(value)


def whole(value):
    """Return a front matter value that is a whole number, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_flags(fields):
    """Return ({flag: bool}, unreadable pairs) of the front matter's four flags."""
    flags, unreadable = {}, []
    for key in ("pinned", "completed", "archived", "trashed"):
        try:
            flags[key] = flag(fields.get(key), times=key in ("archived", "trashed"))
        except Unreadable:
            flags[key] = False
            unreadable.append((key, str(fields[key])))
    return flags, tuple(unreadable)


def read_draft(name, text):
    """Read a file's text as a Draft. The title is the heading's when it was edited, else the
    front matter's (which keeps a title exactly), else the file's name, as the import reads.
    A file with CRLF line ends gives its content with CRLF (as the note had it)."""
    crlf = "\r\n" in text
    stem = name.rsplit("/", 1)[-1].removesuffix(SUFFIX) or name
    fields, body = read_front_matter(text)
    first, _, rest = body.partition("\n")
    heading, content = None, body
    if first.startswith("# "):
        heading, content = first[2:].strip(), rest.lstrip("\n")
    written = fields.get("title") if isinstance(fields.get("title"), str) else None
    if heading and (not written or heading != heading_of(written).strip()):
        title = heading
    else:
        title = written if written and written.strip() else heading or stem
    if fields and content.endswith("\n"):  # the line end the writer adds after the text
        content = content[:-1]
    flags, unreadable = read_flags(fields)
    return Draft(
        title=title,
        content=content.replace("\n", "\r\n") if crlf else content,
        **flags,
        id=whole(fields.get("id")),
        revision=whole(fields.get("revision")),
        unreadable=unreadable,
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
