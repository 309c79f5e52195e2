"""Reading an upload to import, within a budget whatever it holds
(app/features/mypage/importing.py).

Nothing is read whole: a zip's entries are opened one at a time through a reader that stops
at the bytes the entry may unpack to, and `account.json` is read as a stream of JSON events
(ijson), from which only the notes' and attachments' flat fields are kept. Each item is
counted against the most one account may hold as it arrives, so a small archive of
`{"notes":[{},{},…]}` or of 100,000 nested brackets is refused after a few thousand events,
with memory flat. What is kept is bounded by the account's limits: NOTES_PER_USER notes,
NOTE_BYTES_PER_USER of text.
"""

import posixpath
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import ijson

from app import frontmatter
from app.errors import Refused
from app.i18n.formats import file_size
from app.i18n.stored import stored_message
from app.validators import without_non_text

TEXT_SUFFIXES = (".txt", ".md")
# account.json is a map of lists of flat maps, the word counts' results a little deeper.
MAX_DEPTH = 16
# The lists whose items are read (flat maps); the others (the word counts...) are skipped.
KEPT_LISTS = (("array", "notes"), ("array", "attachments"))
# The encodings a .txt is read in when it is not UTF-8: what common editors write.
READABLE_ENCODINGS = frozenset(
    {"cp949", "euc_kr", "johab", "shift_jis", "cp932", "euc_jp", "gb18030", "gb2312", "gbk",
     "big5", "cp1250", "cp1252", "latin_1", "iso8859_15", "utf_16"}
)  # fmt: skip
# Times outside this range are taken as the range's end: no year 1 or 9999 in the account.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)

NOT_READABLE = stored_message(
    "This file is neither a Memo export (.zip) nor a text file (.txt, .md); nothing was imported."
)
DAMAGED = stored_message(
    "%(name)s is a damaged zip file (cut short or changed on the way, perhaps): download "
    "the export again and import that. Nothing was imported."
)
NOT_UTF8 = stored_message("%(name)s is not UTF-8 text; nothing was imported.")
OTHER_ENCODING = stored_message(
    "%(name)s looks like %(encoding)s text, which Memo does not read; save it as UTF-8 "
    "and import it again. Nothing was imported."
)
UNSAFE_NAME = stored_message(
    "The archive holds a file named %(name)s, which points outside it; nothing was imported."
)
TOO_MANY = stored_message("The archive holds more than %(count)s files; nothing was imported.")
TOO_LARGE = stored_message("The archive unpacks to more than %(size)s; nothing was imported.")
BOMB = stored_message(
    "The archive's file %(name)s unpacks to far more than it takes; nothing was imported."
)
BAD_EXPORT = stored_message(
    "The archive's account.json is not a Memo export; nothing was imported."
)
TOO_DEEP = stored_message(
    "The archive's account.json is nested too deeply to be a Memo export; nothing was imported."
)
NO_ROOM = stored_message(
    "The notes and files would take the account past its limits; nothing was imported."
)


class ImportFileRefused(Refused):
    """The upload cannot be imported; the message (English, as the import's row stores it
    and its page translates it back: app/i18n/stored.py) says why."""


@dataclass
class Limits:
    """What one import may read: the archive's bounds and the most one account may hold."""

    files: int
    unpacked_bytes: int  # text files, together
    json_bytes: int  # an export's account.json, read as a stream
    ratio: int
    notes: int
    text_bytes: int

    def too_large(self, size=None):
        return ImportFileRefused(TOO_LARGE % {"size": file_size(size or self.unpacked_bytes)})


@dataclass
class Incoming:
    """One note to add, and its attachments' metadata as the export wrote it."""

    title: str
    content: str
    completed: bool = False
    pinned: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    archived_at: datetime | None = None
    deleted_at: datetime | None = None
    source_id: int | None = None
    files: list = field(default_factory=list)

    def text_bytes(self):
        return len(self.title.encode()) + len(self.content.encode())


class LimitedReader:
    """A file's reader that refuses the upload past `limit` bytes (raising `refusal`)."""

    def __init__(self, file, limit, refusal):
        self.file, self.left, self.refusal = file, limit, refusal

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()

    def read(self, size=-1):
        want = self.left + 1 if size is None or size < 0 else min(size, self.left + 1)
        data = self.file.read(want)
        self.left -= len(data)
        if self.left < 0:
            raise self.refusal
        return data


def safe_name(name):
    """Refuse an entry name that is absolute, climbs out with `..`, or uses backslashes."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\0" in name or ".." in parts:
        raise ImportFileRefused(UNSAFE_NAME % {"name": name})
    return posixpath.normpath(name)


def checked_entries(archive, limits):
    """Return {name: ZipInfo} of the archive's files, refusing too many or an unsafe name.

    What each entry may unpack to is checked where it is read: an export's attachments go to
    the store one at a time within the account's attachment limits (importing.check_room),
    its account.json is read as a stream (`checked_size`), text files are read whole.
    """
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > limits.files:
        raise ImportFileRefused(TOO_MANY % {"count": limits.files})
    return {safe_name(info.filename): info for info in infos}


def checked_size(infos, most, limits):
    """Refuse the archive if these entries claim to unpack to more than `most` bytes."""
    if sum(info.file_size for info in infos) > most:
        raise limits.too_large(most)


def open_entry(archive, info, limits):
    """Open one entry for reading, stopped past what it claims or what its ratio allows."""
    ratio_limit = max(info.compress_size, 1) * limits.ratio + 64 * 1024
    bomb = ImportFileRefused(BOMB % {"name": info.filename})
    if info.file_size > ratio_limit:
        raise bomb
    return LimitedReader(archive.open(info), info.file_size, bomb)


def text_of(name, data):
    """Decode a text file: UTF-8, else a common encoding detected, else refused by name;
    without what is never text (a form refuses it; here it is left out)."""
    try:
        return without_non_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # the import job's: 6 MB the web does not load

    best = from_bytes(data).best()
    if best is None:
        raise ImportFileRefused(NOT_UTF8 % {"name": name})
    if best.encoding not in READABLE_ENCODINGS:
        raise ImportFileRefused(OTHER_ENCODING % {"name": name, "encoding": best.encoding})
    return without_non_text(str(best))


def moment(value):
    """Read an export's time, put inside [1970, tomorrow]: a naive one is taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ImportFileRefused(BAD_EXPORT)
    try:
        read = datetime.fromisoformat(value)
    except ValueError:
        raise ImportFileRefused(BAD_EXPORT) from None
    if read.tzinfo is None:
        read = read.replace(tzinfo=UTC)
    return min(max(read, EARLIEST), datetime.now(UTC) + LATEST_AHEAD)


def export_items(stream):
    """Yield (list name, flat dict) for each item of account.json's top-level lists.

    Built from parse events: an item holds only its scalar fields (a nested value refuses
    the upload), and nothing deeper than MAX_DEPTH is accepted anywhere.
    """
    stack, key, item = [], None, None
    try:
        for event, value in ijson.basic_parse(stream, use_float=True):
            if event == "map_key":
                key = value
            elif event in ("start_map", "start_array"):
                in_map = bool(stack) and stack[-1][0] == "map"
                stack.append(("map" if event == "start_map" else "array", key if in_map else None))
                if len(stack) > MAX_DEPTH or stack[0][0] != "map":
                    raise ImportFileRefused(TOO_DEEP if len(stack) > MAX_DEPTH else BAD_EXPORT)
                if item is not None:
                    raise ImportFileRefused(BAD_EXPORT)  # a note's field is never a list or a map
                if len(stack) == 3 and stack[1] in KEPT_LISTS and event == "start_map":
                    item = {}
            elif event in ("end_map", "end_array"):
                stack.pop()
                if item is not None and len(stack) == 2:
                    yield stack[1][1], item
                    item = None
            elif item is not None:
                item[key] = value
    except (ijson.JSONError, UnicodeDecodeError, ValueError):
        raise ImportFileRefused(BAD_EXPORT) from None


def string(item, name, default=None):
    """Return a string of the export's item, without what is never text (as text_of)."""
    value = item.get(name, default)
    if not isinstance(value, str):
        raise ImportFileRefused(BAD_EXPORT)
    return without_non_text(value)


def whole_number(item, name):
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportFileRefused(BAD_EXPORT)
    return value


def incoming_note(item, title_max, content_max):
    """An export's note as an Incoming (None for one without a title)."""
    title = string(item, "title", "")
    if not title.strip():
        return None
    return Incoming(
        title=title[:title_max],
        content=string(item, "content", "")[:content_max],
        completed=item.get("completed") is True,
        pinned=item.get("pinned") is True,
        created_at=moment(item.get("created_at")),
        updated_at=moment(item.get("updated_at")),
        archived_at=moment(item.get("archived_at")),
        deleted_at=moment(item.get("deleted_at")),
        source_id=whole_number(item, "id"),
    )


def read_export(stream, limits, title_max, content_max):
    """Return (notes, attachments' metadata) of account.json, counted against `limits`."""
    notes, attachments, seen, text = [], [], 0, 0
    for name, item in export_items(stream):
        if name == "notes":
            seen += 1
            note = incoming_note(item, title_max, content_max)
            if note is not None:
                notes.append(note)
                text += note.text_bytes()
            if seen > limits.notes or text > limits.text_bytes:
                raise ImportFileRefused(NO_ROOM)
        elif name == "attachments":
            attachments.append(item)
            if len(attachments) > limits.files:
                raise ImportFileRefused(TOO_MANY % {"count": limits.files})
    return notes, attachments


def note_from_text(name, text, title_max, content_max):
    """A .txt or .md file as a note: its first `# heading` (or its file name) is the title;
    a .md file's front matter (an export's: app/frontmatter.py) gives back the rest."""
    stem = posixpath.basename(name).rsplit(".", 1)[0] or name
    fields, text = frontmatter.read(text) if name.lower().endswith(".md") else ({}, text)
    first, _, rest = text.partition("\n")
    if name.lower().endswith(".md") and first.startswith("# "):
        title, content = first[2:].strip(), rest.lstrip("\n")
    else:
        title, content = stem, text
    if isinstance(fields.get("title"), str) and fields["title"].strip():
        title = fields["title"]
    if fields and content.endswith("\n"):  # the line end an export adds after the text
        content = content[:-1]
    return Incoming(
        title=(title or stem)[:title_max],
        content=content[:content_max],
        completed=fields.get("completed") is True,
        pinned=fields.get("pinned") is True,
        created_at=front_moment(fields, "created"),
        updated_at=front_moment(fields, "updated"),
        archived_at=front_moment(fields, "archived"),
        deleted_at=front_moment(fields, "trashed"),
    )


def front_moment(fields, key):
    """A front matter time, put inside [1970, tomorrow]; None where it is missing or unread."""
    try:
        return moment(fields.get(key))
    except ImportFileRefused:
        return None
