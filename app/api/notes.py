"""The API's notes: list, create, read, change, trash, restore, tick a task, history.

Every rule of writing is the pages' own (app/notes/service.py): the write rate, the quota,
the save on top of a version, the trash. A note's ETag is its version: a change or a
deletion needs it in If-Match (428 without), and one made on an older version is refused
with 412 and the note as it is now, nothing overwritten.
"""

from datetime import timedelta

from flask import request, url_for
from flask_babel import gettext
from marshmallow import RAISE
from sqlalchemy import select, tuple_

from app.api import bp
from app.api.auth import api_user
from app.api.cursors import make_cursor, read_cursor
from app.api.documented import IDEMPOTENCY_KEY, IF_MATCH, problems
from app.api.idempotency import digest_of, remember, remembered_note
from app.api.problems import Problem
from app.api.reminders import reminder_json, reminders_of, set_reminder
from app.api.schemas import History, NoteChange, NoteCreate, NoteList, NoteOut, NotesQuery, TaskTick
from app.extensions import db
from app.markdown import summary
from app.models import Note
from app.models.notes import SET_ASIDE
from app.notes import history, service
from app.notes.lookup import owned_note
from app.notes.paging import EPOCH
from app.tags import tag_name

TEXT_FIELDS = ("title", "content")
MISSING = object()


def note_json(note, reminder=MISSING):
    """Return a note as the API shows it (times as datetimes, in UTC; its reminder's in
    the reminder's zone). A page of notes passes each one's `reminder`, read at once."""
    if reminder is MISSING:
        reminder = reminders_of([note.id]).get(note.id)
    done, total = note.tasks_done, note.tasks_total
    if done is None or total is None:  # a note the previous release wrote, not yet read
        facts = summary(note.content)
        done, total = facts.tasks_done, facts.tasks_total
    return {
        "id": note.id,
        "title": note.title,
        "content": note.content,
        "completed": note.completed,
        "pinned": note.pinned,
        "archived": note.archived_at is not None,
        "trashed": note.deleted_at is not None,
        "tags": list(note.tags or []),
        "tasks": {"done": done, "total": total},
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "version": note.version,
        "reminder": reminder_json(reminder),
    }


def etag(note):
    """Return the note's ETag: its version, quoted."""
    return f'"{note.version}"'


def find_note(note_id, in_trash=False):
    """Return the token's account's note, or 404 (another account's is as good as missing)."""
    note = owned_note(api_user().id, note_id, in_trash)
    if note is None:
        raise Problem(404, "not-found", gettext("You have no note with this id."))
    return note


def version_matched(note):
    """Return the version If-Match names; 428 without one, 412 unless it is the note's."""
    sent = request.headers.get("If-Match")
    if sent is None:
        raise Problem(428, "version-required", 'Send If-Match with the note\'s ETag, e.g. "3".')
    value = sent.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 18) or int(value) != (
        note.version
    ):
        raise stale(note)
    return note.version


def stale(note):
    """Return the 412 for a change made on another version: it carries the note as it is."""
    db.session.rollback()
    note = db.session.get(Note, note.id)
    return Problem(
        412,
        "version-mismatch",
        gettext(
            "The note is at version %(version)s now; nothing was changed.", version=note.version
        ),
        headers={"ETag": etag(note)},
        note=NoteOut().dump(note_json(note)),
    )


def answer(note, status=200, **headers):
    """Return the note with its ETag (read again: a save wrote it with a statement)."""
    db.session.refresh(note)
    return note_json(note), status, {"ETag": etag(note), **headers}


@bp.get("/notes")
@bp.arguments(NotesQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, NoteList)
@problems(422)
def list_notes(limit, **query):
    """List the account's notes, a page at a time.

    Pinned first, then last edited (or created) first. Without `archived` or `trashed`, the
    list holds what the notes page lists.
    """
    user_id = api_user().id
    moment = Note.created_at if query["sort"] == "created" else Note.updated_at
    statement = select(Note).where(Note.user_id == user_id, *filters(query))
    position = tuple_(Note.pinned, moment, Note.id)
    if query.get("cursor"):
        pinned, micros, note_id = read_cursor(user_id, query, query["cursor"])
        statement = statement.where(
            position < tuple_(pinned, EPOCH + timedelta(microseconds=micros), note_id)
        )
    found = db.session.scalars(
        statement.order_by(Note.pinned.desc(), moment.desc(), Note.id.desc()).limit(limit + 1)
    ).all()
    items, more = found[:limit], len(found) > limit
    cursor = make_cursor(user_id, query, position_of(items[-1], moment)) if more else None
    reminders = reminders_of([note.id for note in items])
    return {
        "items": [note_json(note, reminders.get(note.id)) for note in items],
        "next_cursor": cursor,
    }


def position_of(note, moment):
    """Return a note's place in the list's order as plain values: pinned, micros, id."""
    at = getattr(note, moment.key)
    return [note.pinned, (at - EPOCH) // timedelta(microseconds=1), note.id]


def filters(query):
    """Return the conditions the list's query asks for."""
    conditions = [
        Note.deleted_at.is_not(None) if query["trashed"] else Note.deleted_at.is_(None),
    ]
    if not query["trashed"]:
        archived = Note.archived_at.is_not(None)
        conditions.append(archived if query["archived"] else Note.archived_at.is_(None))
    if "pinned" in query:
        conditions.append(Note.pinned.is_(query["pinned"]))
    if query.get("tag"):
        conditions.append(Note.tags.contains(tags_named(query["tag"])))
    return conditions


def tags_named(asked):
    """Return the tags `asked` names, folded as notes keep them; 422 for one that is none."""
    tags = [tag_name(text) for text in asked]
    if None in tags:
        raise Problem(422, "invalid-fields", gettext("No such tag."), invalid_params=[tag_param()])
    return tags


def tag_param():
    """Return the 422's entry for a `tag` that names no tag."""
    return {"name": "tag", "reason": gettext("A tag is letters, digits, _ and -, such as work.")}


@bp.post("/notes")
@bp.arguments(NoteCreate)
@bp.response(201, NoteOut)
@problems(403, 409, 422, 429, headers=[IDEMPOTENCY_KEY])
def create_note(body):
    """Write a new note.

    With an `Idempotency-Key`, the same key within 24 hours answers the note it made, not a
    second one.
    """
    user = api_user()
    key = request.headers.get("Idempotency-Key")
    digest = digest_of(body) if key is not None else None
    if key is not None:
        earlier = remembered_note(user.id, key, digest)
        if earlier is not None:
            return answer(earlier, 201, Location=note_url(earlier))
    note = service.create(user.id, **body)
    if key is not None and not remember(user.id, key, digest, note):
        db.session.rollback()  # another request with the key came first: its note answers
        note = remembered_note(user.id, key, digest)
    db.session.commit()
    return answer(note, 201, Location=note_url(note))


def note_url(note):
    """Return the note's address in the API (its Location)."""
    return url_for("api.read_note", note_id=note.id, _external=True)


@bp.get("/notes/<id:note_id>")
@bp.response(200, NoteOut)
@problems(404)
def read_note(note_id):
    """Read one note, with its version as `ETag`.

    A note in the trash too.
    """
    return answer(find_note(note_id, in_trash=None))


@bp.patch("/notes/<id:note_id>")
@bp.arguments(NoteChange)
@bp.response(200, NoteOut)
@problems(403, 404, 409, 412, 422, 428, 429, headers=[IF_MATCH])
def change_note(body, note_id):
    """Change a note on top of the version `If-Match` names.

    Any of `title`, `content`, `completed`, `pinned`, `archived` and `reminder`
    (`{"at", "repeat"}`, or `null` to remove it).
    """
    note = find_note(note_id)
    base = version_matched(note)
    if any(field in body for field in TEXT_FIELDS):
        title, content = body.get("title", note.title), body.get("content", note.content)
        service.make_room(note.user_id, title, content, note)
        if not service.save(note, title, content, base):
            raise stale(note)
    apply_flags(note, body)
    if "reminder" in body:
        set_reminder(note, body["reminder"], api_user().time_zone)
    db.session.commit()
    return answer(note)


def apply_flags(note, body):
    """Set the note's completed, pinned and archived that the body names."""
    if "completed" in body:
        service.set_completed(note, body["completed"])
    if "pinned" in body:
        service.set_pinned(note, body["pinned"])
    if "archived" in body:
        service.set_archived(note, body["archived"])


@bp.delete("/notes/<id:note_id>")
@bp.response(204)
@problems(403, 404, 412, 428, headers=[IF_MATCH])
def trash_note(note_id):
    """Move a note to the trash.

    Restorable for 30 days; `If-Match` must be its version.
    """
    note = find_note(note_id)
    version_matched(note)
    service.move_to_trash(note)
    db.session.commit()
    return "", 204


@bp.post("/notes/<id:note_id>/restore")
@bp.response(200, NoteOut)
@problems(403, 404)
def restore_note(note_id):
    """Take a note out of the trash.

    A note not in it is answered as it is.
    """
    note = find_note(note_id, in_trash=None)
    service.restore(note)
    db.session.commit()
    return answer(note)


@bp.put("/notes/<id:note_id>/tasks/<int(max=9999):number>")
@bp.arguments(TaskTick)
@bp.response(200, NoteOut)
@problems(403, 404, 409, 412, 422, 428, 429, headers=[IF_MATCH])
def tick_task(body, note_id, number):
    """Tick a task item of a note, or untick it.

    Item `number` counts from 0 in document order; on top of the version `If-Match` names.
    """
    note = find_note(note_id)
    base = version_matched(note)
    content = service.ticked(note, number, body["done"])
    if content is None:
        raise Problem(
            404, "not-found", gettext("The note has no task item %(number)s.", number=number)
        )
    if content != note.content:
        service.make_room(note.user_id, note.title, content, note)
        if not service.save(note, note.title, content, base):
            raise stale(note)
        db.session.commit()
    return answer(note)


@bp.get("/notes/<id:note_id>/history")
@bp.response(200, History)
@problems(404)
def note_history(note_id):
    """List the texts a note's saves replaced.

    And those a conflict set aside; newest first.
    """
    note = find_note(note_id, in_trash=None)
    return {
        "items": [
            {
                "id": version.id,
                "saved_at": version.saved_at,
                "title": version.title,
                "content": version.content,
                "kind": "set_aside" if version.kind == SET_ASIDE else "save",
            }
            for version in history.versions(note)
        ]
    }
