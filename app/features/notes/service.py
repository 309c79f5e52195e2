"""The only writer of notes: the pages, the API, the import and the jobs change a note here.

Every change runs the same rules in one order, written once in `change()`:
1. authorise: the note is the acting account's (else 404, as a missing one);
2. version: a change made on an older text `version` (the pages' forms) or `revision` (the
   API's If-Match) is refused with Stale, before anything is spent;
3. rate: one write counted against the account's write rate (429 past it; a change that
   changes nothing spends nothing);
4. room: under the account's row lock (its writers queue here) the note is read again, the
   version checked again, and a new text must fit the quota (QuotaFull);
5. write: the columns; a new text moves `version` and `updated_at`;
6. history: the text a save replaces is kept (app/features/notes/history.py);
7. tags: tags, the list's summary and the stored HTML are read from the new text;
8. revision: `revision` moves by one and the note takes the account's next change number
   (app/features/notes/changes.py);
9. event: one event in the same transaction (app/features/notes/events.py).
Creating and deleting for good run the same steps where they apply. Each writing function
runs `writing(Note)` (app/writers.py) and flushes before it returns. Callers commit.
"""

from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm.exc import ObjectDeletedError
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.features.attachments.uploads import delete_note_attachments, usage
from app.features.notes import changes, events, history, links, reminders
from app.features.notes.quota import check_kept, check_many, check_room
from app.markdown import render_stored, set_task, summary
from app.models import Note, lock_user, utcnow
from app.models.notes import SET_ASIDE
from app.tags import note_tags
from app.throttle import spend_note_write
from app.wikilinks import fold
from app.writers import writing

TEXT = ("title", "content")


class Stale(Exception):
    """The note moved past the version or revision the change was made on; nothing written."""

    def __init__(self, note):
        super().__init__(note.id)
        self.note = note


def authorise(user_id, note):
    """Refuse a note that is not the account's as if it did not exist."""
    if note.user_id != user_id:
        raise NotFound


def check_base(note, version, revision):
    """Raise Stale unless the note is still at `version` and `revision` (None: any)."""
    if (version is not None and version != note.version) or (
        revision is not None and revision != note.revision
    ):
        raise Stale(note)


def differences(note, wanted):
    """Return the fields of `wanted` whose value the note does not have yet."""
    current = {
        "title": note.title,
        "content": note.content,
        "completed": note.completed,
        "pinned": note.pinned,
        "archived": note.archived_at is not None,
        "trashed": note.deleted_at is not None,
    }
    return {field: value for field, value in wanted.items() if current[field] != value}


def text_facts(title, content):
    """Return what is read from a note's text: tags, the list's summary, the stored HTML and
    its `[[…]]` links, the title as links name it."""
    facts = summary(content)
    stored = render_stored(content)
    return {
        "tags": note_tags(title, content),
        "preview": facts.preview,
        "open_tasks": facts.open_tasks,
        "tasks_done": facts.tasks_done,
        "tasks_total": facts.tasks_total,
        "rendered": stored.html,
        "links": stored.links,
        "title_key": fold(title),
    }


def read_text(note, facts=None):
    """Set what is read from the note's text (`facts`, when read already from the same text)
    and keep its links (app/features/notes/links.py)."""
    facts = dict(facts or text_facts(note.title, note.content))
    links.store(note, facts.pop("links"))
    for name, value in facts.items():
        setattr(note, name, value)
    note.tagged_version = note.read_version = note.rendered_version = note.version


def read_again(note):
    """Read the note again under the account's lock; 404 when it was deleted meanwhile."""
    try:
        db.session.refresh(note)
    except (InvalidRequestError, ObjectDeletedError):  # SQLAlchemy 2.1: "Could not refresh"
        raise NotFound from None


@writing(Note)
def stamp(note, kind):
    """Move the note's revision, give it the account's next number, emit its event."""
    note.revision = (note.revision or 0) + 1
    note.seq = changes.next_seq(note.user_id)
    db.session.flush()
    events.emit(note.user_id, note.id, note.seq, kind)


def write(note, found):
    """Set the changed fields on the note (step 5)."""
    if "title" in found or "content" in found:
        note.title = found.get("title", note.title)
        note.content = found.get("content", note.content)
        note.version += 1
        note.updated_at = utcnow()
    if "completed" in found:
        note.completed = found["completed"]
    if "pinned" in found:
        note.pinned = found["pinned"]
    if "archived" in found:
        note.archived_at = utcnow() if found["archived"] else None
    if "trashed" in found:
        note.deleted_at = utcnow() if found["trashed"] else None


@writing(Note)
def change(
    user_id, note, version=None, revision=None, always=False, counted=True, roomy=False, **wanted
):
    """Change the note's `wanted` fields (title, content, completed, pinned, archived,
    trashed) if it is still at `version`/`revision`; return the fields changed.

    Raise Stale (nothing spent or written) when it moved on, QuotaFull when a new text
    would not fit. `always`: keep the replaced text in the history even within its quiet
    time (a restore, a conflict's choice). `counted`: spend a write (a job's change does not).
    `roomy`: the caller checked the room for this change and its others at once, under the
    account's lock (a rename: app/features/notes/renames.py).
    """
    authorise(user_id, note)
    check_base(note, version, revision)
    if not differences(note, wanted):
        return {}
    if counted:
        spend_note_write(user_id)
    lock_user(user_id)
    read_again(note)
    check_base(note, version, revision)
    found = differences(note, wanted)
    if not found:
        return {}
    text = "title" in found or "content" in found
    if text:
        if not roomy:
            check_room(
                user_id, found.get("title", note.title), found.get("content", note.content), note
            )
        history.keep(note, always=always)
    write(note, found)
    if text:
        read_text(note)
    if "trashed" in found:  # a reminder waits in the trash with its note
        (reminders.pause if found["trashed"] else reminders.resume)(note)
    stamp(note, events.kind_of(found))
    return found


@contextmanager
def touching(user_id, note, kind, revision=None, counted=True):
    """Around a change of what the note's JSON shows that is kept outside its row (a
    reminder, say: its feature writes its own rows inside the block): the rules' steps 1-4
    before, the revision, the account's number and the event `kind` after, one transaction."""
    authorise(user_id, note)
    check_base(note, None, revision)
    if counted:
        spend_note_write(user_id)
    lock_user(user_id)
    read_again(note)
    check_base(note, None, revision)
    yield note
    stamp(note, kind)


def save(user_id, note, title, content, version, always=False):
    """Make `title` and `content` the note's text if it is still at text `version`."""
    return change(user_id, note, version=version, always=always, title=title, content=content)


def ticked(note, number, done):
    """Return the note's content with task item `number` (from 0) set done or not, or None
    when its text has no such item."""
    return set_task(note.content, number, done)


@writing(Note)
def new_note(user_id, title, content, facts=None, **columns):
    """Add a note with its text's tags, summary and HTML, numbered and announced (steps 5-9)."""
    note = Note(user_id=user_id, title=title, content=content, **columns)
    db.session.add(note)
    db.session.flush()
    read_text(note, facts)
    note.revision = 0  # stamp() makes it 1
    stamp(note, events.CREATED)
    return note


def create(user_id, title, content, completed=False, pinned=False):
    """Add a new note of the user's, within the write rate and quota; return it (flushed)."""
    spend_note_write(user_id)
    check_room(user_id, title, content)
    return new_note(user_id, title, content, completed=completed, pinned=pinned)


def read_texts(drafts, spent=None):
    """Read and render the texts of notes an import brings (dicts of a note's columns) before
    they are added: the slow part, done holding no lock, so the account's saves never wait on
    it. `spent()`, called after each, may stop it by raising. Return the drafts with their
    facts, for create_many()."""
    read = []
    for draft in drafts:
        read.append({**draft, "facts": text_facts(draft["title"], draft["content"])})
        if spent is not None:
            spent()
    return read


def create_many(user_id, drafts):
    """Add the notes an import brings (dicts of a note's columns, their facts read by
    read_texts() or read here), all or none: the quota holds for them together (QuotaFull),
    and an import is a job with budgets of its own: no write rate. Return the notes (flushed)."""
    check_many(user_id, len(drafts), [(draft["title"], draft["content"]) for draft in drafts])
    return [new_note(user_id, **draft) for draft in drafts]


def set_aside(user_id, note, title, content, version):
    """After a conflict, keep the saved text and put `title` and `content` (the one that lost)
    in the note's history: a write of the history only, so the note's revision stays."""
    authorise(user_id, note)
    if version is None or version >= note.version:
        raise Stale(note)  # nothing to resolve: the note did not move past it
    spend_note_write(user_id)
    if (title, content) != (note.title, note.content):
        check_kept(user_id, title, content)
        history.keep(
            note,
            title=title,
            content=content,
            saved_at=utcnow(),
            always=True,
            kind=SET_ASIDE,
        )


@writing(Note)
def delete_for_good(notes):
    """Delete these notes, leaving a tombstone and an event each; their attachments'
    objects go once the deletion commits."""
    for user_id, theirs in by_account(notes).items():
        for note, seq in zip(theirs, changes.next_seqs(user_id, len(theirs)), strict=True):
            changes.bury(note, seq)
            events.emit(note.user_id, note.id, seq, events.DELETED)
            delete_note_attachments(note)
            db.session.delete(note)
    db.session.flush()


def delete_if_untouched(user_id, note):
    """Delete for good a note that holds nothing its maker did not fill in: no text, no
    attachment, never changed since it was made (a share whose files never arrived).
    Return whether it was deleted; a note with anything in it stays."""
    authorise(user_id, note)
    spend_note_write(user_id)
    lock_user(user_id)  # attachments are confirmed under this lock too
    read_again(note)
    if note.content or note.revision != 1 or note.deleted_at is not None:
        return False
    if usage(user_id, note.id)[0]:
        return False
    delete_for_good([note])
    return True


def empty_trash(user_id):
    """Delete every note in the user's trash for good (one write, none when it is empty);
    return how many."""
    trashed = select(Note).where(Note.user_id == user_id, Note.deleted_at.is_not(None))
    if db.session.scalar(trashed.with_only_columns(Note.id).limit(1)) is None:
        return 0
    spend_note_write(user_id)
    lock_user(user_id)
    notes = db.session.scalars(trashed).all()
    delete_for_good(notes)
    return len(notes)


def purge_expired(cutoff, batch=500):
    """Delete a batch of notes trashed before `cutoff` (the worker's purge); return how many."""
    notes = db.session.scalars(
        select(Note).where(Note.deleted_at < cutoff).order_by(Note.deleted_at).limit(batch)
    ).all()
    delete_for_good(notes)
    return len(notes)


@writing(Note)
def stamp_unstamped(batch=200):
    """Number the notes the previous release inserted during a deploy (no `seq`), so the
    feed lists them; return how many."""
    notes = db.session.scalars(
        select(Note).where(Note.seq.is_(None)).order_by(Note.id).limit(batch)
    ).all()
    for user_id, theirs in by_account(notes).items():
        for note, seq in zip(theirs, changes.next_seqs(user_id, len(theirs)), strict=True):
            note.revision, note.seq = (note.revision or 0) + 1, seq
    db.session.flush()
    for note in notes:
        events.emit(note.user_id, note.id, note.seq, events.CREATED)
    return len(notes)


def by_account(notes):
    """The notes grouped by their account, each group in the given order."""
    grouped = {}
    for note in notes:
        grouped.setdefault(note.user_id, []).append(note)
    return grouped


# Each batch holds its notes' row locks while it reads them: small enough that a save of one
# of them waits a few milliseconds at most.
REREAD_BATCH = 200


@writing(Note)
def reread(batch=REREAD_BATCH):
    """Read tags, summary and HTML again from the text of a batch of notes whose copies are
    older than it (each part of the condition has its partial index); a text the previous
    release saved also moves the revision. Return how many."""
    notes = db.session.scalars(
        select(Note)
        .where(
            Note.tagged_version.is_distinct_from(Note.version)
            | Note.preview.is_(None)
            | Note.read_version.is_distinct_from(Note.version)
            | Note.rendered_version.is_distinct_from(Note.version)
            | Note.title_key.is_(None)
        )
        .order_by(Note.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for note in notes:
        moved = note.preview is None or note.read_version != note.version
        read_text(note)
        if moved and note.seq is not None:
            stamp(note, "content")
    db.session.flush()  # here, where the writer's fact holds
    return len(notes)
