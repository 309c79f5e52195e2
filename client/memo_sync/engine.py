"""Pull, push and sync: a folder of Markdown files and an account's notes, in step.

Pull reads only the change feed after the folder's `next_since`; push sends only the files
whose bytes changed since they were last in step. Neither side's text is ever lost:

- a note changed on both sides: the server's text goes in its file, the folder's beside it as
  `<name> (conflict <date>).md`, which the next push sends as a new note;
- a note trashed or deleted on the server but edited here comes back as a new note; one not
  edited here goes, even a file whose create was answered too late to be known as the note's
  (its Idempotency-Key, sent again, answers the note in the trash);
- a file deleted here whose note changed on the server comes back with the server's text.

Every write names the revision it was made on (If-Match) and carries an Idempotency-Key, so
a run cut anywhere and run again writes nothing twice: a create's key is made once for its
file's life and kept in the journal until its answer is recorded (sent again, it answers the
note it made), a change already made answers 412 with a note that already says what the file
says (taken as done), and a note that arrives from the feed with a file's very text is that
file's. A file is written over only while it still holds the bytes that were read or sent: one
saved again meanwhile is kept, and sent next time on top of the answer's revision.

What the server sends is input (memo_sync/safety.py): an item whose id is no positive whole
number is refused and said, every path is checked to stay inside the folder, and one run
writes at most its budget of files, bytes and change-feed pages.
"""

import dataclasses
import datetime
import hashlib
import posixpath
import uuid

from memo_sync.api import Refused, Unsafe
from memo_sync.folder import digest
from memo_sync.notefile import SUFFIX, draft_text, note_text
from memo_sync.safety import (
    NAME_MAX_BYTES,
    FileNames,
    account_zone,
    checked_note,
    cut_bytes,
    feed_page,
    name_key,
    note_stem,
    positive_id,
)

PROGRESS_EVERY = 50


def key_of(*parts):
    """Return an Idempotency-Key made from a write's state: the same state, the same key."""
    return "memo-sync-" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:48]


def conflict_stem(path, day):
    """Return the stem of the file a conflict keeps the folder's side in (the name cut so that
    the stem stays within NAME_MAX_BYTES: a file's own name may hold 255 bytes)."""
    mark = f" (conflict {day})"
    name = posixpath.basename(path).removesuffix(SUFFIX)
    return cut_bytes(name, NAME_MAX_BYTES - len(mark.encode())).rstrip(" .") + mark


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
        self.refused = 0  # items of the server's refused (said as they come)
        self.zone = datetime.UTC
        self.names = None
        self.loose = None

    def prepare(self):
        """Check the token and the folder's account; find files moved or brought in."""
        state = self.folder.state
        account = self.api.me()
        here = {"server": self.api.url, "account": positive_id(account.get("id"), "account id")}
        if {name: state.get(name, value) for name, value in here.items()} != here:
            raise Refused(f"this folder is synced with another account ({state['server']})")
        self.folder.set(**here)
        self.zone = account_zone(account.get("timezone"))
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
            if path in tracked or draft.id is None or draft.id <= 0 or draft.trashed:
                continue
            if str(draft.id) not in self.folder.notes:
                self.folder.track(draft.id, path, draft.revision or 0, "")

    def refuse(self, unsafe):
        """Say an item of the server's that is refused; the run goes on."""
        self.refused += 1
        self.say(f"memo: refused what the server sent: {unsafe}")

    # Pull

    def pull(self, full=False):
        """Apply the change feed after the folder's `next_since` (from 0 with `full`)."""
        since = 0 if full else self.folder.state.get("next_since", 0)
        seen = set()
        while True:
            self.folder.budget.spend(pages=1)
            items, since = feed_page(self.api.changes(since), since)
            for item in items:
                seen.add(self.apply(item))
            self.folder.set(next_since=since)
            if not items:
                break
        if full:  # a note the whole feed does not hold is gone for good
            for note_id in [int(key) for key in self.folder.notes if int(key) not in seen]:
                self.gone(note_id)
        self.folder.save_state()

    def apply(self, item):
        """Apply one item of the feed; return its note's id (None for one refused)."""
        try:
            if not isinstance(item, dict):
                raise Unsafe("a change-feed item that is no object")
            if "deleted" in item:
                deleted = item["deleted"] if isinstance(item["deleted"], dict) else {}
                note_id = positive_id(deleted.get("id"), "a deleted note's id")
                self.gone(note_id)
                return note_id
            note = checked_note(item.get("note"))
            entry = self.folder.notes.get(str(note["id"]))
            if note["trashed"]:
                self.gone(note["id"])
            elif entry is None:
                self.arrived(note)
            elif note["revision"] > entry["revision"]:
                self.changed_there(note, entry)
            return note["id"]
        except Unsafe as unsafe:
            self.refuse(unsafe)
            return None

    def gone(self, note_id):
        """The note is in the trash or deleted: its file goes, unless it was edited here, when
        its text stays to come back as a new note."""
        entry = self.folder.notes.get(str(note_id))
        if entry is None:
            return
        local = self.folder.read(entry["path"])
        unchanged = local is None or local.hash == entry["hash"]
        if not (unchanged and self.folder.remove(entry["path"], local and local.hash)):
            local = self.folder.read(entry["path"]) or local
            text = draft_text(local.draft, **loose_fields(local.draft))
            self.folder.write_bytes(entry["path"], text.encode(), expected=local.hash)
            self.say(f"memo: {entry['path']} was deleted on the server but edited here: kept")
        self.folder.forget(note_id)
        self.count("pulled")

    def arrived(self, note):
        """A note new to the folder: a file with its very text and no id is its (a create
        whose answer was lost); else it gets a new file, named as an export names it."""
        for path, local in self.loose_files().items():
            if local.draft.same_as(note):
                del self.loose[path]
                if self.keep(note, path, local.hash):
                    self.drop_key(path)
                    return
        while not self.keep(note, self.new_name(note_stem(note["title"], note["id"])), None):
            continue  # a file came there since the names were read: the next name
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
        """A note changed on the server since the folder last had it. A file saved again
        while this ran is not written over: the next push finds the conflict."""
        local = self.folder.read(entry["path"])
        if local is not None and local.hash != entry["hash"] and not local.draft.same_as(note):
            self.conflict(local, note)
        self.keep(note, entry["path"], local and local.hash)
        self.count("pulled")

    def conflict(self, local, note):
        """Keep the folder's side of a conflict beside the note's file, titled so that the web
        tells it apart: "<title> (conflict 2026-11-28 09:15)", in the account's zone."""
        now = datetime.datetime.now(self.zone)
        folder_of = posixpath.dirname(local.path)
        draft = dataclasses.replace(
            local.draft, title=f"{local.draft.title} (conflict {now:%Y-%m-%d %H:%M})"
        )
        text = draft_text(draft, **loose_fields(draft))
        path = self.free_path(folder_of, conflict_stem(local.path, f"{now:%Y-%m-%d}"), text)
        self.folder.write_text(path, text)
        self.say(f"memo: {local.path} changed on both sides: this folder's text is in {path}")
        self.counts["conflicts"] += 1
        return path

    def free_path(self, folder_of, stem, text):
        """Return a free path for `stem` in `folder_of`, or one that holds `text` already."""
        taken = {name_key(name) for name in self.folder.names(folder_of)}
        tracked = {name_key(path) for path in self.folder.paths()}  # deleted here, unsent
        number = 1
        while True:
            name = f"{stem}{SUFFIX}" if number == 1 else f"{stem} ({number}){SUFFIX}"
            path = posixpath.join(folder_of, name)
            free = name_key(name) not in taken or self.folder.hash_now(path) == digest(
                text.encode()
            )
            if free and name_key(path) not in tracked:
                return path
            number += 1

    def new_name(self, stem):
        """Return a free name at the folder's top for a note's new file."""
        if self.names is None:  # the files there, and those deleted here but not yet sent
            self.names = FileNames([*self.folder.names(), *self.folder.paths()])
        return self.names.name(stem)

    def keep(self, note, path, expected):
        """Write the note into `path`, if the file still holds the bytes of hash `expected`
        (None: no file), and remember the file as in step with it; return whether written."""
        data = note_text(note, self.zone).encode("utf-8")
        if not self.folder.write_bytes(path, data, expected=expected):
            return False
        self.folder.track(note["id"], path, note["revision"], digest(data))
        return True

    def count(self, kind):
        self.counts[kind] += 1
        if self.counts[kind] % PROGRESS_EVERY == 0:
            self.say(f"memo: {kind} {self.counts[kind]} so far")

    # Push

    def push(self):
        """Send the files changed since they were last in step, then the deletions."""
        files = self.folder.scan()
        for path in list(self.folder.creating()):
            if path not in files or path in self.folder.paths():
                self.drop_key(path)  # its file is gone, or its create's answer recorded
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
                self.unreadable(local)
                self.create(local)
            elif entry is not None and local.hash != entry["hash"]:
                self.unreadable(local)
                self.change(note_id, entry, local)
        except Refused as refused:
            self.say(f"memo: {local.path} was not sent: {refused}")

    def unreadable(self, local):
        """Say each front matter value the file's push leaves as the server has it."""
        for key, value in local.draft.unreadable:
            self.say(
                f"memo: {local.path}: {key}: {value!r} is not read "
                f"(yes/no, true/false, a date): the server's {key} is left as it is"
            )

    def create_key(self, path):
        """Return the Idempotency-Key of the create of the file at `path`: made once for the
        file's life, and kept in the journal before it is sent until its answer is recorded."""
        key = self.folder.creating().get(path)
        if key is None:
            key = f"memo-sync-{uuid.uuid4().hex}"
            self.folder.record({"creating": path, "key": key})
        return key

    def drop_key(self, path):
        if path in self.folder.creating():
            self.folder.record({"creating": path, "key": None})

    def create(self, local):
        """Write the file as a new note, then write the note back into the file."""
        draft = local.draft
        body = {key: value for key, value in draft.body().items() if key != "archived"}
        sent_before = local.path in self.folder.creating()
        key = self.create_key(local.path)
        note = checked_note(self.api.create(body, key))
        if note["trashed"] and not sent_before:  # a new key's note cannot be in the trash
            self.drop_key(local.path)
            raise Unsafe("the server answered a new note as one in the trash: the file stays")
        if note["trashed"]:  # sent before, its answer lost, and trashed on the server since
            self.folder.remove(local.path, local.hash)
            self.drop_key(local.path)
            self.say(f"memo: {local.path} was sent before and trashed on the server since: gone")
            self.count("pulled")
            return
        if not draft.same_as(note):  # archived, or the key's note made of older bytes
            revision = note["revision"]
            answer = self.api.change(note["id"], draft.body(), revision, key_of(key, revision))
            if answer.status != 200:  # changed on the server since: sent again next time
                self.folder.track(note["id"], local.path, revision, "")
                self.drop_key(local.path)
                return
            note = checked_note(answer.body)
        self.sent_before(note, local)
        self.written_back(note, local)
        self.drop_key(local.path)
        self.count("pushed")

    def written_back(self, note, local):
        """Write the server's answer into the file sent, unless it was saved again meanwhile:
        then it stays, in step with the answer's revision as sent, to go next time."""
        if not self.keep(note, local.path, local.hash):
            self.folder.track(note["id"], local.path, note["revision"], local.hash)
            self.say(f"memo: {local.path} was saved again while it was sent: kept, sent next time")

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
            self.folder.remove(other["path"], arrived and arrived.hash)
        else:  # edited here too: that file stays the note's, and this one is a copy
            self.folder.remove(local.path, local.hash)
            self.drop_key(local.path)
            raise Refused(f"it was sent before: its note is in {other['path']}")

    def change(self, note_id, entry, local):
        """Send a file's change on top of the revision it was in step with."""
        key = key_of(self.folder.state["folder"], note_id, entry["revision"], local.hash)
        answer = self.api.change(note_id, local.draft.body(), entry["revision"], key)
        if answer.status == 404:  # gone from the server: the text comes back as a new note
            self.folder.forget(note_id)
            self.create(local)
            return
        note = checked_note(answer.body if answer.status == 200 else answer.body.get("note"))
        if answer.status == 412 and not local.draft.same_as(note):
            conflict = self.conflict(local, note)
            self.keep(note, local.path, local.hash)  # saved again meanwhile: conflicts again
            self.create(self.folder.read(conflict))
            return
        self.written_back(note, local)
        self.count("pushed")

    def send_deletion(self, note_id, entry):
        """Trash the note of a file deleted here, unless the server changed it meanwhile."""
        key = key_of(self.folder.state["folder"], note_id, entry["revision"], "trash")
        answer = self.api.trash(note_id, entry["revision"], key)
        note = answer.body.get("note") if answer.status == 412 else None
        if note is not None and not checked_note(note)["trashed"]:
            self.keep(note, entry["path"], None)  # changed there: it comes back
            self.say(f"memo: {entry['path']} was deleted here but changed on the server: back")
        else:
            self.folder.forget(note_id)
        self.count("pushed")
