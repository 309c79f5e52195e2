"""The synced folder: its Markdown files and its state file, `.memo-sync.json`.

The state file holds no secret: the server's URL, the account's id, the change feed's
`next_since`, and for each note the file it lives in, the revision the file was last in step
with and the SHA-256 of the file's bytes then. Each change of it is appended at once to a
journal, `.memo-sync.log`, right after the file it describes is written (a line costs what one
note costs, where rewriting the whole state would cost what every note costs); the state file
is written again, and the journal emptied, at the end of each step, and a run cut before that
replays the journal. Every file and the state are written to a temporary name first and moved
into place, so a run cut anywhere leaves whole files.
"""

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from memo_sync.notefile import SUFFIX, Draft, read_draft
from memo_sync.safety import Budget, Unsafe, inside

STATE_NAME = ".memo-sync.json"
JOURNAL_NAME = ".memo-sync.log"
STATE_FORMAT = 1
EXPORT_ATTACHMENTS = "attachments"


def digest(data):
    """Return the SHA-256 of bytes, as hex."""
    return hashlib.sha256(data).hexdigest()


def is_left_alone(parts):
    """Return whether a file is no note: hidden (the state, an editor's), or an export's
    attachment (attachments/ at the top of an unzipped export)."""
    return any(part.startswith(".") for part in parts) or parts[0] == EXPORT_ATTACHMENTS


def apply(state, change):
    """Apply one change of the journal to a state."""
    if "set" in change:
        state.update(change["set"])
    elif "creating" in change:  # a create's Idempotency-Key, for its file's life
        keys = state.setdefault("creating", {})
        if change["key"] is None:
            keys.pop(change["creating"], None)
        else:
            keys[change["creating"]] = change["key"]
    elif change["entry"] is None:
        state["notes"].pop(str(change["note"]), None)
    else:
        state["notes"][str(change["note"])] = change["entry"]


def outside(root, relative):
    """Return whether a path of the folder resolves outside it (a symlink)."""
    try:
        inside(root, relative.as_posix())
    except Unsafe:
        return True
    return False


@dataclass(frozen=True)
class LocalFile:
    """A Markdown file of the folder as read now."""

    path: str  # relative, with "/"
    hash: str
    draft: Draft


class Folder:
    """A folder of notes and its state."""

    def __init__(self, root, readonly=False):
        self.root = Path(root)
        self.readonly = readonly  # `memo status`: nothing is written
        self.state_path = self.root / STATE_NAME
        self.journal_path = self.root / JOURNAL_NAME
        self.by_path = None
        self.budget = Budget()
        self.state = self.load_state()
        # The folder's id lasts from the first run on; a journal left by a cut run is folded
        # in, so that no line this run appends follows one cut short.
        if not self.state_path.exists() or self.journal_path.exists():
            self.save_state()

    def load_state(self):
        """Return the folder's state (its journal replayed), or a new one with an id of its own."""
        state = {"format": STATE_FORMAT, "folder": uuid.uuid4().hex, "next_since": 0, "notes": {}}
        if self.state_path.exists():
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        if self.journal_path.exists():
            for line in self.journal_path.read_text(encoding="utf-8").splitlines():
                try:
                    apply(state, json.loads(line))
                except ValueError:
                    continue  # a line cut short: the run stopped while writing it
        return state

    def save_state(self):
        """Write the state whole and empty the journal (at the end of each step)."""
        if self.readonly:
            return
        data = json.dumps(self.state, indent=1, sort_keys=True).encode()
        self.write_bytes(STATE_NAME, data, counted=False)
        self.journal_path.unlink(missing_ok=True)

    def record(self, change):
        """Make a change of the state, and append it to the journal at once."""
        apply(self.state, change)
        if not self.readonly:
            with open(self.journal_path, "a", encoding="utf-8") as journal:
                journal.write(json.dumps(change) + "\n")

    def set(self, **values):
        """Set state values (`next_since`, the server, the account)."""
        self.record({"set": values})

    @property
    def notes(self):
        """Return {note id (str): {"path", "revision", "hash"}}."""
        return self.state["notes"]

    def paths(self):
        """Return {path: note id} of the tracked files."""
        if self.by_path is None:
            self.by_path = {entry["path"]: int(key) for key, entry in self.notes.items()}
        return self.by_path

    def entry_at(self, path):
        """Return (note id, entry) of the note kept in `path`, or (None, None)."""
        note_id = self.paths().get(path)
        return (None, None) if note_id is None else (note_id, self.notes[str(note_id)])

    def track(self, note_id, path, revision, file_hash):
        """Remember `path` as note `note_id`'s file, in step with `revision` at `file_hash`."""
        self.forget(note_id)
        self.record(
            {"note": note_id, "entry": {"path": path, "revision": revision, "hash": file_hash}}
        )
        self.paths()[path] = int(note_id)

    def forget(self, note_id):
        entry = self.notes.get(str(note_id))
        if entry is not None:
            self.paths().pop(entry["path"], None)
            self.record({"note": note_id, "entry": None})

    def scan(self):
        """Return {path: LocalFile} of every Markdown file under the folder (hidden ones and
        hidden folders left out)."""
        found = {}
        for path in sorted(self.root.rglob(f"*{SUFFIX}")):
            relative = path.relative_to(self.root)
            if is_left_alone(relative.parts) or not path.is_file() or outside(self.root, relative):
                continue  # a symlink out of the folder is never read (nor sent)
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue  # not a note this client can read: left alone
            name = relative.as_posix()
            found[name] = LocalFile(name, digest(data), read_draft(name, text))
        return found

    def read(self, path):
        """Return the LocalFile at `path` now, or None."""
        full = inside(self.root, path)
        if not full.is_file():
            return None
        data = full.read_bytes()
        return LocalFile(path, digest(data), read_draft(path, data.decode("utf-8", "replace")))

    def hash_now(self, path):
        """Return the SHA-256 of the file at `path` now, or None when there is none."""
        full = inside(self.root, path)
        return digest(full.read_bytes()) if full.is_file() else None

    def write_text(self, path, text):
        """Write a file whole; return the SHA-256 of its bytes."""
        data = text.encode("utf-8")
        self.write_bytes(path, data)
        return digest(data)

    def write_bytes(self, path, data, counted=True, expected=False):
        """Write a file whole through a temporary file in its folder; with `expected` (a hash,
        or None for no file), only if the file still holds those bytes: return whether
        written. Each file counts against the run's budget."""
        full = inside(self.root, path)
        if counted:
            self.budget.spend(files=1, size=len(data))
        full.parent.mkdir(parents=True, exist_ok=True)
        temporary = full.with_name(f".memo-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")  # short:
        temporary.write_bytes(data)  # the file's own name may already hold 255 bytes
        if expected is not False and self.hash_now(path) != expected:
            temporary.unlink()  # changed since it was read: the newer bytes stay
            return False
        os.replace(temporary, full)
        return True

    def remove(self, path, expected=False):
        """Remove a file; with `expected`, only if it still holds the bytes of that hash."""
        if expected is False or self.hash_now(path) == expected:
            inside(self.root, path).unlink(missing_ok=True)
            return True
        return False

    def creating(self):
        """Return {path: Idempotency-Key} of the creates sent and not yet answered."""
        return self.state.get("creating", {})

    def names(self, folder=""):
        """Return the names of the files in `folder` (the top by default)."""
        full = inside(self.root, folder) if folder else self.root
        return [path.name for path in full.iterdir()] if full.is_dir() else []
