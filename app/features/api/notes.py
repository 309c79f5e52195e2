"""The API's notes: list, create, read, change, trash, restore, tick a task, history.

Every write goes through the pages' one writer (app/features/notes/service.py): the write rate, the
quota, the change on top of a revision, the trash. A note's ETag is its revision, which moves
on every change of its JSON: a change or a deletion needs it in If-Match (428 without),
compared strongly (RFC 9110 section 13.1.1: `*` matches any note, a weak tag none), and one
made on another revision is refused with 412 and the note as it is now, nothing overwritten.
A read with If-None-Match naming the current tag answers 304.
"""

from flask import Response, request, url_for
from flask_babel import gettext
from marshmallow import RAISE

from app.extensions import db
from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.cursors import list_position, make_cursor, read_cursor
from app.features.api.documented import IDEMPOTENCY_KEY, IF_MATCH, IF_NONE_MATCH, problems
from app.features.api.idempotency import remembered_note
from app.features.api.problems import Problem
from app.features.api.reads import hold_api_read
from app.features.api.reminders import reminder_json, reminders_of, set_reminder
from app.features.api.schemas import (
    History,
    NoteChange,
    NoteCreate,
    NoteList,
    NoteOut,
    NotesQuery,
    TaskTick,
)
from app.features.notes import history, links, service
from app.features.notes.idempotency import digest_of, remember
from app.features.notes.lookup import owned_note
from app.features.notes.paging import (
    ARCHIVED_SHELF,
    LISTED_SHELF,
    TRASHED_SHELF,
    Shelf,
    notes_page,
    sort_named,
)
from app.markdown import summary
from app.models import Note
from app.models.notes import SET_ASIDE
from app.tags import tag_name

MISSING = object()


def note_json(note, reminder=MISSING, linked=MISSING):
    """Return a note as the API shows it (times as datetimes, in UTC; its reminder's in
    the reminder's zone; the ids of the notes its links name now). A page of notes passes
    each one's `reminder` and `linked`, read at once."""
    if reminder is MISSING:
        reminder = reminders_of([note.id]).get(note.id)
    if linked is MISSING:
        linked = links.linked([note.id])[note.id]
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
        "archived_at": note.archived_at,
        "trashed": note.deleted_at is not None,
        "tags": list(note.tags or []),
        "links": linked,
        "tasks": {"done": done, "total": total},
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "version": note.version,
        "revision": note.revision,
        "reminder": reminder_json(reminder),
    }


def etag(note):
    """Return the note's ETag: its revision, quoted (a strong tag)."""
    return f'"{note.revision}"'


def entity_tags(header):
    """Return the entity tags a conditional header lists, as sent (`*` alone stays `*`)."""
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def find_note(note_id, in_trash=False):
    """Return the token's account's note, or 404 (another account's is as good as missing)."""
    note = owned_note(api_user().id, note_id, in_trash)
    if note is None:
        raise Problem(404, "not-found", gettext("You have no note with this id."))
    return note


def revision_matched(note):
    """Return the revision If-Match names (the note's own for `*`); 428 without one, 412
    unless one of its tags is the note's, strongly compared (a weak tag never matches)."""
    sent = request.headers.get("If-Match")
    if sent is None:
        raise Problem(
            428, "version-required", gettext('Send If-Match with the note\'s ETag, e.g. "3".')
        )
    tags = entity_tags(sent)
    if tags == ["*"] or etag(note) in tags:
        return note.revision
    raise stale(note)


def not_modified(note):
    """Return whether If-None-Match names the note's current tag (or `*`): weakly compared,
    as RFC 9110 section 13.1.2 says for this header."""
    sent = request.headers.get("If-None-Match")
    if sent is None:
        return False
    tags = [tag.removeprefix("W/") for tag in entity_tags(sent)]
    return tags == ["*"] or etag(note) in tags


def stale(note):
    """Return the 412 for a change made on another version: it carries the note as it is."""
    db.session.rollback()
    note = db.session.get(Note, note.id)
    return Problem(
        412,
        "version-mismatch",
        gettext(
            "The note is at revision %(revision)s now; nothing was changed.",
            revision=note.revision,
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
@problems(422, 429)
def list_notes(limit, **query):
    """List the account's notes, a page at a time.

    Pinned first, then last edited (or created) first. Without `archived` or `trashed`, the
    list holds what the notes page lists.
    """
    user_id = api_user().id
    hold_api_read(user_id)  # a page of up to 100 whole notes: a heavy read
    cursor = query.get("cursor")
    asked = {"before": list_position(read_cursor(user_id, query, cursor))} if cursor else {}
    page = notes_page(
        user_id,
        asked,
        limit,
        tags_named(query["tag"]) if query.get("tag") else (),
        sort_named(query["sort"]),
        shelf_asked_for(query),
        whole=True,
    )
    linked = links.linked([note.id for note in page.items])
    return {
        "items": [
            note_json(note, page.reminders.get(note.id), linked[note.id]) for note in page.items
        ],
        "next_cursor": make_cursor(user_id, query, page.older) if page.older else None,
    }


def shelf_asked_for(query):
    """Return the notes the list's query asks for: in the trash (archived or not), else the
    archived ones or those in the list; all of them, or the pinned or unpinned only."""
    if query["trashed"]:
        name = TRASHED_SHELF
    else:
        name = ARCHIVED_SHELF if query["archived"] else LISTED_SHELF
    return Shelf(name, query.get("pinned"))


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
@bp.alt_response(304, description="Not Modified: `If-None-Match` names the note's `ETag`.")
@problems(404, headers=[IF_NONE_MATCH])
def read_note(note_id):
    """Read one note, with its revision as `ETag`.

    A note in the trash too. With `If-None-Match` naming its current tag: 304, no body.
    """
    note = find_note(note_id, in_trash=None)
    if not_modified(note):
        return Response(status=304, headers={"ETag": etag(note)})
    return answer(note)


@bp.patch("/notes/<id:note_id>")
@bp.arguments(NoteChange)
@bp.response(200, NoteOut)
@problems(403, 404, 409, 412, 422, 428, 429, headers=[IF_MATCH])
def change_note(body, note_id):
    """Change a note on top of the revision `If-Match` names.

    Any of `title`, `content`, `completed`, `pinned`, `archived` and `reminder`
    (`{"at", "repeat"}`, or `null` to remove it).
    """
    note = find_note(note_id)
    user_id, revision = api_user().id, revision_matched(note)
    reminder = body.pop("reminder", MISSING)
    changed = written(note, revision, **body)
    if reminder is not MISSING:
        # One transaction: a write spent once, the reminder refused (422) takes the rest back.
        base = None if changed else revision
        try:
            with service.touching(user_id, note, "reminder", revision=base, counted=not changed):
                set_reminder(note, reminder, api_user().time_zone)
        except service.Stale:
            raise stale(note) from None
    db.session.commit()
    return answer(note)


def written(note, revision, **fields):
    """Change the note's `fields` on top of `revision` (app/features/notes/service.py) and return
    those changed; 412 when it moved on."""
    try:
        return service.change(api_user().id, note, revision=revision, **fields)
    except service.Stale:
        raise stale(note) from None


@bp.delete("/notes/<id:note_id>")
@bp.response(204)
@problems(403, 404, 412, 428, headers=[IF_MATCH])
def trash_note(note_id):
    """Move a note to the trash.

    Restorable for 30 days; `If-Match` must be its revision.
    """
    note = find_note(note_id)
    written(note, revision_matched(note), trashed=True)
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
    service.change(api_user().id, note, trashed=False)
    db.session.commit()
    return answer(note)


@bp.put("/notes/<id:note_id>/tasks/<int(max=9999):number>")
@bp.arguments(TaskTick)
@bp.response(200, NoteOut)
@problems(403, 404, 409, 412, 422, 428, 429, headers=[IF_MATCH])
def tick_task(body, note_id, number):
    """Tick a task item of a note, or untick it.

    Item `number` counts from 0 in document order; on top of the revision `If-Match` names.
    """
    note = find_note(note_id)
    revision = revision_matched(note)
    content = service.ticked(note, number, body["done"])
    if content is None:
        raise Problem(
            404, "not-found", gettext("The note has no task item %(number)s.", number=number)
        )
    written(note, revision, content=content)
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
