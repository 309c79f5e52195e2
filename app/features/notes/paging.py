"""The one list of an account's notes, for the pages and the API: its query, its order and
its cursor. Keyset paging: any page costs the same, however many notes exist.

Pinned notes come first, then the rest, each last edited first (`?sort=created`: newest
first; the API calls the first order `updated`, and both names work on both). A page is
addressed by a cursor, the position (pinned, updated_at or created_at, id) of a note on its
edge: `before` lists the notes after it in that order, `after` those before it; each order
has its index (migrations 0021 and 0023). The contract's `?page=N` still works (an OFFSET,
fine for the first pages); the links the list shows are cursors, and the API signs the same
cursor (app/features/api/cursors.py). A cursor without its pinned part (`micros-id`, the links of
the release before pins) is a position among the unpinned notes.
The pages list the notes neither archived nor in the trash; the API may ask for the archived
ones, those in the trash, or the pinned or unpinned ones only (a Shelf); `tags` (a list,
`/?tag=`) keeps the notes that have all of them."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, select, tuple_

from app.extensions import db
from app.models import BIGINT_MAX, Note, Reminder
from app.models.notes import EDITED_AFTER
from app.validators import page_number

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OLDEST = "0-0"  # the cursor after every note: `after=0-0` is the last page
# ASCII digits only (str.isdigit() also takes "²" and "١"), and few enough of them that
# the values fit: pinned (1) or not (0), microseconds up to year 9999, an id in bigint.
CURSOR_FORMAT = re.compile(r"(?:([01])-)?([0-9]{1,18})-([0-9]{1,19})")
NO_SUCH_PAGE = _l("That page of notes does not exist.")


SORTS = ("edited", "created")  # `?sort=`: the first is the default
# The API's name of the `edited` order (docs/api.md), the same order: one vocabulary, both
# names kept working on the pages and in the API.
SORT_ALIASES = {"updated": "edited"}
NO_SUCH_SORT = _l("The list can be sorted by last edit or by creation only.")


def sort_named(name):
    """Return the order a sort's name (or its alias) means."""
    return SORT_ALIASES.get(name, name)


def sort_asked_for(args):
    """Return the order `?sort=` asks for, or abort 404 for one the list does not have."""
    sort = sort_named(args.get("sort", SORTS[0]))
    if sort not in SORTS:
        abort(404, str(NO_SUCH_SORT))
    return sort


def cursor_of(note, sort=SORTS[0]):
    """Return the cursor of a note: 1 or 0 (pinned or not), microseconds since the epoch (of
    its last edit, or its creation), its id, joined by dashes."""
    moment = note.created_at if sort == "created" else note.updated_at
    micros = (moment - EPOCH) // timedelta(microseconds=1)
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
    return match[1] == "1", created_at, int(match[3])  # created_at: or updated_at


def page_asked_for(args):
    """Return the `page` asked for (1 when none), or abort 404 for one that is not a page."""
    return page_number(args.get("page", "1")) or abort(404, str(NO_SUCH_PAGE))


@dataclass
class NotePage:
    """One page of notes, newest first, with the cursors of its neighbours (and, for whole
    notes, their reminders: {note id: Reminder})."""

    items: list
    newer: str | None
    older: str | None
    reminders: dict | None = None


# The list's queries run on the table as plain Core and yield rows, not ORM objects: no
# identity map and no ORM compile step. Each is built once with bound parameters, so a
# request only binds values: building one costs 0.16 ms, 2.3 % of the first page's CPU and
# 4.6 % of an older or newer page's, which runs two (the in-process CPU benchmark of then;
# see docs/performance.md). A row has the attributes the list shows; app/features/notes/listing.py
# reads them in LISTED's order (its COLUMNS, checked at import). The API asks the same statements
# for whole notes (`whole`): the same conditions, order and cursor, other columns.
NOTES = Note.__table__
REMINDERS = Reminder.__table__
AT_CURSOR = tuple_(bindparam("pinned"), bindparam("created_at"), bindparam("id"))

# Which of an account's notes a list holds: the pages' list (neither archived nor in the
# trash), the archived ones, or those in the trash (archived or not). Written out per shelf,
# not as one condition with parameters: the planner then sees plain predicates.
LISTED_SHELF, ARCHIVED_SHELF, TRASHED_SHELF = "listed", "archived", "trashed"
SHELVES = {
    LISTED_SHELF: NOTES.c.deleted_at.is_(None) & NOTES.c.archived_at.is_(None),
    ARCHIVED_SHELF: NOTES.c.deleted_at.is_(None) & NOTES.c.archived_at.is_not(None),
    TRASHED_SHELF: NOTES.c.deleted_at.is_not(None),
}


@dataclass(frozen=True)
class Shelf:
    """Which notes a list holds: a shelf, and only the pinned (True) or unpinned (False) ones
    of it, or both (None; the pages)."""

    name: str = LISTED_SHELF
    pinned: bool | None = None


def mine(shelf):
    """Return the condition of the bound account's notes on `shelf` that have all the bound
    tags (`tags @> '{}'` holds for every note: one statement whether a tag is asked or not)."""
    condition = (
        (NOTES.c.user_id == bindparam("user_id"))
        & SHELVES[shelf.name]
        & NOTES.c.tags.contains(bindparam("tags", type_=NOTES.c.tags.type))
    )
    if shelf.pinned is not None:
        condition &= NOTES.c.pinned.is_(shelf.pinned)
    return condition


# The list shows the content's summary, never the content: it may be 20,000 characters.
LISTED_COLUMNS = (
    NOTES.c.id,
    NOTES.c.title,
    NOTES.c.created_at,
    NOTES.c.updated_at,
    NOTES.c.completed,
    NOTES.c.pinned,
    NOTES.c.preview,
    NOTES.c.tasks_done,
    NOTES.c.tasks_total,
    NOTES.c.version,
    # The open tasks the list offers, while they are still the text's (app/markdown.py).
    case((NOTES.c.read_version == NOTES.c.version, NOTES.c.open_tasks)).label("open_tasks"),
    (NOTES.c.updated_at - NOTES.c.created_at >= EDITED_AFTER).label("edited"),
    # When its reminder fires next, for the list's bell (no query of its own).
    select(REMINDERS.c.due_at)
    .where(REMINDERS.c.note_id == NOTES.c.id)
    .scalar_subquery()
    .label("reminder_at"),
)
LISTED = select(*LISTED_COLUMNS).where(mine(Shelf()))


@dataclass
class Order:
    """The list's statements for one order, by `moment` (a note's time column), then id."""

    from_newest: object
    older_than: object
    newer_than: object
    any_older: object
    any_newer: object


MOMENTS = {"edited": NOTES.c.updated_at, "created": NOTES.c.created_at}


@cache
def order_of(sort, shelf=Shelf(), whole=False):
    """Build the statements of `shelf`'s notes in the order `sort`, pinned first, newest
    first: rows of the list's columns, or whole notes (`whole`, the API). Built once each."""
    moment = MOMENTS[sort]
    position = tuple_(NOTES.c.pinned, moment, NOTES.c.id)
    newest_first = (NOTES.c.pinned.desc(), moment.desc(), NOTES.c.id.desc())
    oldest_first = (NOTES.c.pinned, moment, NOTES.c.id)
    limit = bindparam("limit")
    # Whole notes come with their reminders (one a note, or none), in the same statement.
    whole_notes = select(Note, Reminder).outerjoin(Reminder, Reminder.note_id == NOTES.c.id)
    listed = (whole_notes if whole else select(*LISTED_COLUMNS)).where(mine(shelf))
    # Ordered, so that the index scan starts at the cursor: a row comparison bounds the scan
    # by its first column only, and `pinned` alone would let it read every unpinned note.
    return Order(
        from_newest=listed.order_by(*newest_first).offset(bindparam("offset")).limit(limit),
        older_than=listed.where(position < AT_CURSOR).order_by(*newest_first).limit(limit),
        newer_than=listed.where(position > AT_CURSOR).order_by(*oldest_first).limit(limit),
        any_older=select(NOTES.c.id)
        .where(mine(shelf), position < AT_CURSOR)
        .order_by(*newest_first)
        .limit(1),
        any_newer=select(NOTES.c.id)
        .where(mine(shelf), position > AT_CURSOR)
        .order_by(*oldest_first)
        .limit(1),
    )


for _sort in SORTS:  # the pages' statements, built as the process starts
    order_of(_sort)


def rows(query, **values):
    """Run one of the list's queries with these values; return its rows (for whole notes,
    (note, its reminder or None) pairs)."""
    return db.session.execute(query, values).all()


def exists(query, mine, note, sort):
    """Return whether `query` finds one of `mine`'s notes beyond the position of `note`."""
    moment = note.created_at if sort == "created" else note.updated_at
    return bool(rows(query, **mine, pinned=note.pinned, created_at=moment, id=note.id))


def notes_page(user_id, args, per_page, tags=(), sort=SORTS[0], shelf=Shelf(), whole=False):
    """Return the page of `user_id`'s notes on `shelf` (with all of `tags`, in the order
    `sort`) that `args` asks for: `after` or `before` a cursor, or a `page` from the newest.

    `whole`: the items are whole notes (their reminders in `reminders`, read in the same
    statement), and only the older neighbour is looked for (the API pages one way); else
    rows of the list's columns, with both neighbours (the pages).
    """
    order = order_of(sort, shelf, whole)
    limit = per_page + 1
    mine = {"user_id": user_id, "tags": list(tags)}
    reminders = {}

    def fetch(query, **values):
        found = rows(query, **mine, **values, limit=limit)
        if not whole:
            return found
        reminders.update((note.id, reminder) for note, reminder in found if reminder is not None)
        return [note for note, _ in found]

    if "after" in args:
        pinned, created_at, note_id = position_of(args["after"])
        at = {"pinned": pinned, "created_at": created_at, "id": note_id}
        found = fetch(order.newer_than, **at)
        items = found[:per_page][::-1]
        has_newer = len(found) > per_page
        has_older = bool(items) and exists(order.any_older, mine, items[-1], sort)
    elif "before" in args:
        pinned, created_at, note_id = position_of(args["before"])
        at = {"pinned": pinned, "created_at": created_at, "id": note_id}
        found = fetch(order.older_than, **at)
        items, has_older = found[:per_page], len(found) > per_page
        has_newer = bool(items) and not whole and exists(order.any_newer, mine, items[0], sort)
    else:
        offset = (page_asked_for(args) - 1) * per_page
        found = fetch(order.from_newest, offset=offset)
        items, has_older, has_newer = found[:per_page], len(found) > per_page, offset > 0
        if offset and not items:
            abort(404, str(NO_SUCH_PAGE))
    return NotePage(
        items=items,
        newer=cursor_of(items[0], sort) if has_newer and items else None,
        older=cursor_of(items[-1], sort) if has_older else None,
        reminders=reminders if whole else None,
    )
