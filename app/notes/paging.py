"""Keyset pagination of a user's notes: any page costs the same, however many notes exist.

A page is addressed by a cursor, the position (created_at, id) of a note on its
edge: `before` lists the notes older than it, `after` the notes newer than it. The
contract's `?page=N` still works (an OFFSET, fine for the first pages); the links
the list shows are cursors.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import abort
from sqlalchemy import select, tuple_
from sqlalchemy.orm import load_only

from app.extensions import db
from app.models import Note
from app.validators import page_number

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OLDEST = "0-0"  # the cursor before every note: `after=0-0` is the last page
# ASCII digits only (str.isdigit() also takes "²" and "١"), and few enough of them that
# the values fit: microseconds up to year 9999, an id in bigint.
CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,19})")
BIGINT_MAX = 2**63 - 1
NO_SUCH_PAGE = "That page of notes does not exist."


def cursor_of(note):
    """Return the cursor of a note: microseconds since the epoch, a dash, its id."""
    return f"{(note.created_at - EPOCH) // timedelta(microseconds=1)}-{note.id}"


def position_of(cursor):
    """Return (created_at, id) for a cursor, or abort 404 for a malformed one."""
    match = CURSOR.fullmatch(cursor or "")
    if match is None or int(match[2]) > BIGINT_MAX:
        abort(404, NO_SUCH_PAGE)
    try:
        return EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:  # past datetime's year 9999
        abort(404, NO_SUCH_PAGE)


def page_asked_for(args):
    """Return the `page` asked for (1 when none), or abort 404 for one that is not a page."""
    return page_number(args.get("page", "1")) or abort(404, NO_SUCH_PAGE)


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
        offset = (page_asked_for(args) - 1) * per_page
        rows = db.session.scalars(newest_first(mine).offset(offset).limit(per_page + 1)).all()
        items, has_older, has_newer = rows[:per_page], len(rows) > per_page, offset > 0
        if offset and not items:
            abort(404, NO_SUCH_PAGE)
    return NotePage(
        items=items,
        newer=cursor_of(items[0]) if has_newer and items else None,
        older=cursor_of(items[-1]) if has_older else None,
    )
