"""Keyset pagination of a user's notes: any page costs the same, however many notes exist.

Pinned notes come first, then the rest, each newest first. A page is addressed by a cursor,
the position (pinned, created_at, id) of a note on its edge: `before` lists the notes after it
in that order, `after` those before it. The contract's `?page=N` still works (an OFFSET, fine
for the first pages); the links the list shows are cursors. A cursor without its pinned part
(`micros-id`, the links of the release before pins) is a position among the unpinned notes.
Archived notes are not listed; `tags` (a list, `/?tag=`) keeps the notes that have all of them.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, tuple_

from app.extensions import db
from app.models import BIGINT_MAX, Note
from app.validators import page_number

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OLDEST = "0-0"  # the cursor after every note: `after=0-0` is the last page
# ASCII digits only (str.isdigit() also takes "²" and "١"), and few enough of them that
# the values fit: pinned (1) or not (0), microseconds up to year 9999, an id in bigint.
CURSOR_FORMAT = re.compile(r"(?:([01])-)?([0-9]{1,18})-([0-9]{1,19})")
NO_SUCH_PAGE = _l("That page of notes does not exist.")


def cursor_of(note):
    """Return the cursor of a note: 1 or 0 (pinned or not), microseconds since the epoch, its
    id, joined by dashes."""
    micros = (note.created_at - EPOCH) // timedelta(microseconds=1)
    return f"{int(note.pinned)}-{micros}-{note.id}"


def position_of(cursor):
    """Return (pinned, created_at, id) for a cursor, or abort 404 for a malformed one."""
    match = CURSOR_FORMAT.fullmatch(cursor or "")
    if match is None or int(match[3]) > BIGINT_MAX:
        abort(404, str(NO_SUCH_PAGE))
    try:
        created_at = EPOCH + timedelta(microseconds=int(match[2]))
    except OverflowError:  # past datetime's year 9999
        abort(404, str(NO_SUCH_PAGE))
    return match[1] == "1", created_at, int(match[3])


def page_asked_for(args):
    """Return the `page` asked for (1 when none), or abort 404 for one that is not a page."""
    return page_number(args.get("page", "1")) or abort(404, str(NO_SUCH_PAGE))


@dataclass
class NotePage:
    """One page of notes, newest first, with the cursors of its neighbours."""

    items: list
    newer: str | None
    older: str | None


# The list's queries run on the table as plain Core and yield rows, not ORM objects: no
# identity map and no ORM compile step. Each is built once with bound parameters, so a
# request only binds values: building one costs 0.16 ms, 2.3 % of the first page's CPU and
# 4.6 % of an older or newer page's, which runs two (bench/cpu.py's setting; see
# docs/performance.md). A row has the attributes the list shows, by name.
NOTES = Note.__table__
POSITION = tuple_(NOTES.c.pinned, NOTES.c.created_at, NOTES.c.id)
AT_CURSOR = tuple_(bindparam("pinned"), bindparam("created_at"), bindparam("id"))
# `tags @> '{}'` holds for every note: one statement whether a tag is asked for or not.
MINE = (
    (NOTES.c.user_id == bindparam("user_id"))
    & NOTES.c.deleted_at.is_(None)
    & NOTES.c.archived_at.is_(None)
    & NOTES.c.tags.contains(bindparam("tags", type_=NOTES.c.tags.type))
)
# The list shows no content, and a note's content may be 20,000 characters.
LISTED = select(
    NOTES.c.id, NOTES.c.title, NOTES.c.created_at, NOTES.c.completed, NOTES.c.pinned
).where(MINE)
NEWEST_FIRST = (NOTES.c.pinned.desc(), NOTES.c.created_at.desc(), NOTES.c.id.desc())
FROM_NEWEST = LISTED.order_by(*NEWEST_FIRST).offset(bindparam("offset")).limit(bindparam("limit"))
OLDER_THAN = LISTED.where(POSITION < AT_CURSOR).order_by(*NEWEST_FIRST).limit(bindparam("limit"))
NEWER_THAN = (
    LISTED.where(POSITION > AT_CURSOR)
    .order_by(NOTES.c.pinned, NOTES.c.created_at, NOTES.c.id)
    .limit(bindparam("limit"))
)
# Ordered, so that the index scan starts at the cursor: a row comparison bounds the scan by
# its first column only, and `pinned` alone would let the scan read every unpinned note.
ANY_OLDER = select(NOTES.c.id).where(MINE, POSITION < AT_CURSOR).order_by(*NEWEST_FIRST).limit(1)
ANY_NEWER = (
    select(NOTES.c.id)
    .where(MINE, POSITION > AT_CURSOR)
    .order_by(NOTES.c.pinned, NOTES.c.created_at, NOTES.c.id)
    .limit(1)
)


def rows(query, **values):
    """Run one of the list's queries with these values; return its rows."""
    return db.session.execute(query, values).all()


def exists(query, mine, note):
    """Return whether `query` finds one of `mine`'s notes beyond the position of `note`."""
    return bool(rows(query, **mine, pinned=note.pinned, created_at=note.created_at, id=note.id))


def notes_page(user_id, args, per_page, tags=()):
    """Return the page of `user_id`'s notes (with all of `tags`) that `args` asks for."""
    limit = per_page + 1
    mine = {"user_id": user_id, "tags": list(tags)}
    if "after" in args:
        pinned, created_at, note_id = position_of(args["after"])
        at = {"pinned": pinned, "created_at": created_at, "id": note_id}
        found = rows(NEWER_THAN, **mine, **at, limit=limit)
        items = found[:per_page][::-1]
        has_newer = len(found) > per_page
        has_older = bool(items) and exists(ANY_OLDER, mine, items[-1])
    elif "before" in args:
        pinned, created_at, note_id = position_of(args["before"])
        at = {"pinned": pinned, "created_at": created_at, "id": note_id}
        found = rows(OLDER_THAN, **mine, **at, limit=limit)
        items, has_older = found[:per_page], len(found) > per_page
        has_newer = bool(items) and exists(ANY_NEWER, mine, items[0])
    else:
        offset = (page_asked_for(args) - 1) * per_page
        found = rows(FROM_NEWEST, **mine, offset=offset, limit=limit)
        items, has_older, has_newer = found[:per_page], len(found) > per_page, offset > 0
        if offset and not items:
            abort(404, str(NO_SUCH_PAGE))
    return NotePage(
        items=items,
        newer=cursor_of(items[0]) if has_newer and items else None,
        older=cursor_of(items[-1]) if has_older else None,
    )
