"""What the client takes from a server: nothing it has not checked (docs/sync.md).

Ids are positive whole numbers or the item is refused; a file's name is made of cleaned parts,
safe on Windows, macOS and Linux, and compared as those systems compare names (case and Unicode
normalisation folded); a path is written only once it resolves inside the folder (symlinks
followed); one run writes at most a budget of files, bytes and change-feed pages.
"""

import datetime
import os
import unicodedata
import zoneinfo
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from memo_sync.api import FEED_LIMIT, ApiError, BudgetSpent, Unsafe
from memo_sync.notefile import SUFFIX, clean_name

UNSAFE_CHARACTERS = frozenset('<>:"/\\|?*')
RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{kind}{digit}" for kind in ("COM", "LPT") for digit in "0123456789¹²³"]
)
NOTE_NAME_MAX_LENGTH = 80  # characters of a note's file name before its ".md"
ID_MAX = 2**63 - 1  # the server's ids are PostgreSQL bigints
NAME_MAX_BYTES = 200  # UTF-8 bytes of a name: file systems allow 255, and " (2).md" follows


def positive_id(value, what="id"):
    """Return `value` when it is an id the server may give (a bigint above 0); Unsafe otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX:
        return value
    raise Unsafe(f"{what} {str(value)[:60]!r} is no whole number from 1 to 2**63 - 1")


def cut_bytes(name, limit):
    """Return `name` cut to `limit` UTF-8 bytes, at a character's end."""
    while len(name.encode("utf-8")) > limit:
        name = name[:-1]
    return name


def safe_name(raw, limit=NAME_MAX_BYTES):
    """Return a file name safe on Windows, macOS and Linux ("" when nothing is left): one path
    segment, no hidden or reserved characters, no trailing dot or space, no reserved name."""
    name = clean_name(raw if isinstance(raw, str) else "")
    name = "".join("_" if char in UNSAFE_CHARACTERS else char for char in name)
    name = cut_bytes(name, limit).strip(" .")
    if name.split(".")[0].rstrip(" ").upper() in RESERVED_NAMES:
        name = f"_{name}"
    return name


def note_stem(title, note_id):
    """Return the stem of a note's new file: its title, safe and cut, else its id."""
    stem = safe_name(title)[:NOTE_NAME_MAX_LENGTH].strip(" .")
    return safe_name(stem) or str(positive_id(note_id))


def name_key(name):
    """Return what a file system compares a name by: case and Unicode normalisation folded."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def inside(root, path):
    """Return the full path of `path` (relative, "/"-separated) in the folder `root`; Unsafe
    when it is absolute, climbs out, or resolves (through a symlink) outside the folder."""
    relative = PurePosixPath(str(path).replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise Unsafe(f"{path} is no path inside the folder")
    full = Path(root) / relative
    base = Path(os.path.realpath(root))
    resolved = Path(os.path.realpath(full))
    if resolved != base and base not in resolved.parents:
        raise Unsafe(f"{path} leads outside the folder (to {resolved})")
    return full


def account_zone(name):
    """Return the account's time zone (UTC when it names none this machine knows)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (TypeError, ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return datetime.UTC


def checked_note(note):
    """Return a note the server sent once it is one: an id that is a positive whole number,
    a whole revision, text where text goes; Unsafe otherwise."""
    if not isinstance(note, dict):
        raise Unsafe("a change that is no note")
    positive_id(note.get("id"), "a note's id")
    revision = note.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise Unsafe(f"note {note['id']}'s revision {str(revision)[:20]!r} is no whole number")
    texts = ("title", "content", "created_at", "updated_at")
    flags = ("pinned", "completed", "archived", "trashed")
    wrong = [key for key in texts if not isinstance(note.get(key), str)]
    wrong += [key for key in flags if not isinstance(note.get(key), bool)]
    tags = note.get("tags")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        wrong.append("tags")
    if wrong:
        raise Unsafe(f"note {note['id']} has no readable {', '.join(wrong)}")
    return note


def feed_page(page, since):
    """Return (items, next_since) of a page of the change feed, checked to move on."""
    items, after = page.get("items"), page.get("next_since")
    if not isinstance(items, list) or not isinstance(after, int) or isinstance(after, bool):
        raise ApiError("the server's change feed is not one this client reads")
    if len(items) > FEED_LIMIT:
        raise ApiError(f"the server sent {len(items)} changes in a page of at most {FEED_LIMIT}")
    if items and after <= since:
        raise ApiError(f"the server's change feed does not move on (next_since {after})")
    return items, after


@dataclass
class Budget:
    """What one run may write: files, bytes and change-feed pages (a server that sends without
    end stops at these, saying so)."""

    files: int = 50_000
    bytes: int = 2 * 1024**3
    pages: int = 1_000

    def __post_init__(self):
        self.used = {"files": 0, "bytes": 0, "pages": 0}

    def spend(self, files=0, size=0, pages=0):
        """Count a write (or a page); BudgetSpent once the run has used its budget."""
        for name, amount in (("files", files), ("bytes", size), ("pages", pages)):
            self.used[name] += amount
            if self.used[name] > getattr(self, name):
                what = "change-feed pages" if name == "pages" else name
                raise BudgetSpent(
                    f"stopped at this run's budget of {getattr(self, name)} {what} written or "
                    "read (the server kept sending): what came is kept; run it again to go on"
                )


class FileNames:
    """Names notes' files as an export does ("회의록.md", "회의록 (2).md"), each unique among
    the names `taken`, compared as file systems compare them (`name_key`): the first to come
    keeps the name, the next gets " (2)", in the change feed's order."""

    def __init__(self, taken=()):
        self.taken = {name_key(name) for name in taken}
        self.last_number = {}

    def take(self, name):
        """Mark `name` as used."""
        self.taken.add(name_key(name))

    def name(self, stem):
        """Return the first free name for `stem`, and mark it used."""
        number = self.last_number.get(name_key(stem), 1)  # 1: the stem alone
        name = f"{stem}{SUFFIX}" if number == 1 else f"{stem} ({number}){SUFFIX}"
        while name_key(name) in self.taken:
            number += 1
            name = f"{stem} ({number}){SUFFIX}"
        self.last_number[name_key(stem)] = number
        self.take(name)
        return name
