"""Pull, push and sync: a folder of Markdown files and an account's notes, in step.

Pull reads only the change feed after the folder's `next_since`; push sends only the files
whose bytes changed since they were last in step. Neither side's text is ever lost:

- a note changed on both sides: the server's text goes in its file, the folder's beside it as
  `<name> (conflict <date>).md`, which the next push sends as a new note;
- a note trashed or deleted on the server but edited here comes back as a new note; one not
  edited here goes, even a file whose create was answered too late to be known as the note's
  (its Idempotency-Key, sent again, answers the note in the trash);
- a file deleted here whose note changed on the server comes back with the server's text.

Every write names the revision it was made on (If-Match) and carries an Idempotency-Key made
from the file's state, so a run cut anywhere and run again writes nothing twice: a create
sent again with its key answers the note it made, a change already made answers 412 with a
note that already says what the file says (taken as done), and a note that arrives from the
feed with a file's very text is that file's.
"""

import datetime
import hashlib
import posixpath

from memo_sync.api import Refused
from memo_sync.notefile import SUFFIX, FileNames, draft_text, file_stem, note_text

PROGRESS_EVERY = 50


def key_of(*parts):
    """Return an Idempotency-Key made from a write's state: the same state, the same key."""
    return "memo-sync-" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:48]


def conflict_stem(path, day):
    """Return the stem of the file a conflict keeps the folder's side in."""
    return f"{posixpath.basename(path).removesuffix(SUFFIX)} (conflict {day})"


def loose_fields(draft):
    """Return the front matter of a file that is no server note (yet): no id, no revision."""
    return {"title": draft.title, "pinned": draft.pinned, "completed": draft.completed}


class Sync:
    """One run of the client on one folder."""

    def __init__(self, folder, api, say):
        self.folder = folder
        self.api = api
        self.say = say
        self.counts = {"pulled": 0, "pushed": 0, "conflicts": 0}
        self.names = None
        self.loose = None

    def prepare(self):
        """Check the token and the folder's account; find files moved or brought in."""
        state = self.folder.state
        here = {"server": self.api.url, "account": self.api.me()["id"]}
        if {name: state.get(name, value) for name, value in here.items()} != here:
            raise Refused(f"this folder is synced with another account ({state['server']})")
        self.folder.set(**here)
        files = self.folder.scan()
        self.follow_moves(files)
        self.claim_files(files)

    def follow_moves(self, files):
        """A tracked note's file gone, and an untracked file carrying its id: it moved."""
        tracked = self.folder.paths()
        moved = {}
        for path, local in files.items():
            note_id = local.draft.id
            entry = self.folder.notes.get(str(note_id))
            if path not in tracked and entry is not None and entry["path"] not in files:
                moved.setdefault(note_id, (path, entry))
        for note_id, (path, entry) in moved.items():
            self.folder.track(note_id, path, entry["revision"], entry["hash"])

    def claim_files(self, files):
        """An untracked file that carries an id no file claims (an export unzipped here, a
        state file lost) is that note's, as of the revision it names: its text is compared
        with the server's before anything is written."""
        tracked = set(self.folder.paths())
        for path, local in files.items():
            draft = local.draft
            if path in tracked or draft.id is None or draft.trashed:
                continue
            if str(draft.id) not in self.folder.notes:
                self.folder.track(draft.id, path, draft.revision or 0, "")

    # Pull

    def pull(self, full=False):
        """Apply the change feed after the folder's `next_since` (from 0 with `full`)."""
        since = 0 if full else self.folder.state.get("next_since", 0)
        seen = set()
        while True:
            page = self.api.changes(since)
            for item in page["items"]:
                seen.add(self.apply(item))
            since = page["next_since"]
            self.folder.set(next_since=since)
            if not page["items"]:
                break
        if full:  # a note the whole feed does not hold is gone for good
            for note_id in [int(key) for key in self.folder.notes if int(key) not in seen]:
                self.gone(note_id)
        self.folder.save_state()

    def apply(self, item):
        """Apply one item of the feed; return its note's id."""
        if "deleted" in item:
            self.gone(item["deleted"]["id"])
            return item["deleted"]["id"]
        note = item["note"]
        entry = self.folder.notes.get(str(note["id"]))
        if note["trashed"]:
            self.gone(note["id"])
        elif entry is None:
            self.arrived(note)
        elif note["revision"] > entry["revision"]:
            self.changed_there(note, entry)
        return note["id"]

    def gone(self, note_id):
        """The note is in the trash or deleted: its file goes, unless it was edited here, when
        its text stays to come back as a new note."""
        entry = self.folder.notes.get(str(note_id))
        if entry is None:
            return
        local = self.folder.read(entry["path"])
        if local is None or local.hash == entry["hash"]:
            self.folder.remove(entry["path"])
        else:
            text = draft_text(local.draft, **loose_fields(local.draft))
            self.folder.write_text(entry["path"], text)
            self.say(f"memo: {entry['path']} was deleted on the server but edited here: kept")
        self.folder.forget(note_id)
        self.count("pulled")

    def arrived(self, note):
        """A note new to the folder: a file with its very text and no id is its (a create
        whose answer was lost); else it gets a new file, named as an export names it."""
        for path, local in self.loose_files().items():
            if local.draft.same_as(note):
                del self.loose[path]
                self.keep(note, path)
                return
        self.keep(note, self.new_name(file_stem(note["title"], note["id"])))
        self.count("pulled")

    def loose_files(self):
        """Return {path: LocalFile} of the files that carry no id and are no note's (read once
        a run: the files a pull writes all carry one)."""
        if self.loose is None:
            tracked = self.folder.paths()
            self.loose = {
                path: local
                for path, local in self.folder.scan().items()
                if path not in tracked and local.draft.id is None
            }
        return self.loose

    def changed_there(self, note, entry):
        """A note changed on the server since the folder last had it."""
        local = self.folder.read(entry["path"])
        if local is not None and local.hash != entry["hash"] and not local.draft.same_as(note):
            self.conflict(local, note)
        self.keep(note, entry["path"])
        self.count("pulled")

    def conflict(self, local, note):
        """Keep the folder's side of a conflict beside the note's file."""
        day = datetime.date.today().isoformat()
        folder_of = posixpath.dirname(local.path)
        text = draft_text(local.draft, **loose_fields(local.draft))
        path = self.free_path(folder_of, conflict_stem(local.path, day), text)
        self.folder.write_text(path, text)
        self.say(f"memo: {local.path} changed on both sides: this folder's text is in {path}")
        self.counts["conflicts"] += 1
        return path

    def free_path(self, folder_of, stem, text):
        """Return a free path for `stem` in `folder_of`, or one that holds `text` already."""
        number = 1
        while True:
            name = f"{stem}{SUFFIX}" if number == 1 else f"{stem} ({number}){SUFFIX}"
            path = posixpath.join(folder_of, name)
            existing = self.folder.root / path
            free = not existing.exists() or existing.read_text(encoding="utf-8") == text
            if free and path not in self.folder.paths():  # nor a note's deleted here, unsent
                return path
            number += 1

    def new_name(self, stem):
        """Return a free name at the folder's top for a note's new file."""
        if self.names is None:  # the files there, and those deleted here but not yet sent
            self.names = FileNames([*self.folder.names(), *self.folder.paths()])
        return self.names.name(stem)

    def keep(self, note, path):
        """Write the note into `path` and remember the file as in step with it."""
        written = self.folder.write_text(path, note_text(note))
        self.folder.track(note["id"], path, note["revision"], written)

    def count(self, kind):
        self.counts[kind] += 1
        if self.counts[kind] % PROGRESS_EVERY == 0:
            self.say(f"memo: {kind} {self.counts[kind]} so far")

    # Push

    def push(self):
        """Send the files changed since they were last in step, then the deletions."""
        files = self.folder.scan()
        for local in files.values():
            self.send_file(local)
        for note_id, entry in list(self.folder.notes.items()):
            if entry["path"] not in files and self.folder.read(entry["path"]) is None:
                self.send_deletion(int(note_id), entry)
        self.folder.save_state()

    def send_file(self, local):
        """Send one file, if it changed; a refused one is said and left for later."""
        note_id, entry = self.folder.entry_at(local.path)
        try:
            if entry is None and not local.draft.trashed:
                self.create(local)
            elif entry is not None and local.hash != entry["hash"]:
                self.change(note_id, entry, local)
        except Refused as refused:
            self.say(f"memo: {local.path} was not sent: {refused}")

    def create(self, local):
        """Write the file as a new note, then write the note back into the file."""
        draft = local.draft
        body = {key: value for key, value in draft.body().items() if key != "archived"}
        key = key_of(self.folder.state["folder"], local.path, local.hash)
        note = self.api.create(body, key)
        if note["trashed"]:  # sent before, its answer lost, and trashed on the server since
            self.folder.remove(local.path)
            self.say(f"memo: {local.path} was sent before and trashed on the server since: gone")
            self.count("pulled")
            return
        if draft.archived and not note["archived"]:
            answer = self.api.change(note["id"], {"archived": True}, note["revision"], key)
            note = answer.body if answer.status == 200 else note
        self.sent_before(note, local)
        self.keep(note, local.path)
        self.count("pushed")

    def sent_before(self, note, local):
        """The key answered a note that already has a file here: this file was sent before,
        its answer was lost, and the note came in from the feed since (changed on the server,
        so no file's text was its). This file was the note's first text (in its history now);
        the other file, unless edited here, goes, and the note keeps this file's name."""
        _, entry = self.folder.entry_at(local.path)
        other = self.folder.notes.get(str(note["id"]))
        if other is None or other["path"] == local.path or entry is not None:
            return
        arrived = self.folder.read(other["path"])
        if arrived is None or arrived.hash == other["hash"]:
            self.folder.remove(other["path"])
        else:  # edited here too: that file stays the note's, and this one is a copy
            self.folder.remove(local.path)
            raise Refused(f"it was sent before: its note is in {other['path']}")

    def change(self, note_id, entry, local):
        """Send a file's change on top of the revision it was in step with."""
        key = key_of(self.folder.state["folder"], note_id, entry["revision"], local.hash)
        answer = self.api.change(note_id, local.draft.body(), entry["revision"], key)
        if answer.status == 404:  # gone from the server: the text comes back as a new note
            self.folder.forget(note_id)
            self.create(local)
            return
        note = answer.body if answer.status == 200 else answer.body["note"]
        if answer.status == 412 and not local.draft.same_as(note):
            conflict = self.conflict(local, note)
            self.keep(note, local.path)
            self.create(self.folder.read(conflict))
            return
        self.keep(note, local.path)
        self.count("pushed")

    def send_deletion(self, note_id, entry):
        """Trash the note of a file deleted here, unless the server changed it meanwhile."""
        key = key_of(self.folder.state["folder"], note_id, entry["revision"], "trash")
        answer = self.api.trash(note_id, entry["revision"], key)
        if answer.status == 412 and not answer.body["note"]["trashed"]:
            self.keep(answer.body["note"], entry["path"])  # changed there: it comes back
            self.say(f"memo: {entry['path']} was deleted here but changed on the server: back")
        else:
            self.folder.forget(note_id)
        self.count("pushed")
