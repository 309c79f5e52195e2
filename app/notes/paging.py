"""Keyset pagination of a user's notes: any page costs the same, however many notes exist.

A page is addressed by a cursor, the position (created_at, id) of a note on its
edge: `before` lists the notes older than it, `after` the notes newer than it. The
contract's `?page=N` still works (an OFFSET, fine for the first pages); the links
the list shows are cursors.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import abort
from sqlalchemy import select, tuple_
from sqlalchemy.orm import load_only

from app.extensions import db
from app.models import Note

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OLDEST = "0-0"  # the cursor before every note: `after=0-0` is the last page


def cursor_of(note):
    """Return the cursor of a note: microseconds since the epoch, a dash, its id."""
    return f"{(note.created_at - EPOCH) // timedelta(microseconds=1)}-{note.id}"


def position_of(cursor):
    """Return (created_at, id) for a cursor, or abort 404 for a malformed one."""
    micros, dash, note_id = (cursor or "").partition("-")
    if not (dash and micros.isdigit() and note_id.isdigit()) or len(cursor) > 40:
        abort(404, "That page of notes does not exist.")
    return EPOCH + timedelta(microseconds=int(micros)), int(note_id)


@dataclass
class NotePage:
    """One page of notes, newest first, with the cursors of its neighbours."""

    items: list
    newer: str | None
    older: str | None


def position():
    return tuple_(Note.created_at, Note.id)


def newest_first(query):
    return query.order_by(Note.created_at.desc(), Note.id.desc())


def exists(query):
    return db.session.scalar(query.with_only_columns(Note.id).limit(1)) is not None


def notes_page(user_id, args, per_page):
    """Return the page of `user_id`'s notes that the query string `args` asks for."""
    # The list shows no content, and a note's content may be 20,000 characters.
    listed = load_only(Note.id, Note.title, Note.created_at, Note.completed)
    mine = select(Note).options(listed).where(Note.user_id == user_id)
    if "after" in args:
        rows = db.session.scalars(
            mine.where(position() > tuple_(*position_of(args["after"])))
            .order_by(Note.created_at, Note.id)
            .limit(per_page + 1)
        ).all()
        items = rows[:per_page][::-1]
        has_newer = len(rows) > per_page
        has_older = bool(items) and exists(
            mine.where(position() < tuple_(items[-1].created_at, items[-1].id))
        )
    elif "before" in args:
        rows = db.session.scalars(
            newest_first(mine.where(position() < tuple_(*position_of(args["before"])))).limit(
                per_page + 1
            )
        ).all()
        items, has_older = rows[:per_page], len(rows) > per_page
        has_newer = bool(items) and exists(
            mine.where(position() > tuple_(items[0].created_at, items[0].id))
        )
    else:
        page = args.get("page", "1")
        if not page.isdigit() or int(page) < 1:
            abort(404, "That page of notes does not exist.")
        offset = (int(page) - 1) * per_page
        rows = db.session.scalars(newest_first(mine).offset(offset).limit(per_page + 1)).all()
        items, has_older, has_newer = rows[:per_page], len(rows) > per_page, offset > 0
        if offset and not items:
            abort(404, "That page of notes does not exist.")
    return NotePage(
        items=items,
        newer=cursor_of(items[0]) if has_newer and items else None,
        older=cursor_of(items[-1]) if has_older else None,
    )
