"""The account's change sequence, the tombstones of deleted notes, and the change feed.

Every change of a note takes the account's next number (next_seq) in its own transaction:
the counter's row lock queues the account's writers, so the numbers commit in order and a
reader that has seen N has seen everything below it. A note keeps the number of its last
change (note.seq); a note deleted for good leaves a tombstone with its own. The feed lists
both after a number, in order. Tombstones are kept TOMBSTONE_DAYS; the counter remembers the
newest one pruned (`forgotten_through`), and a feed asked from below it answers Gone: the
device must read everything again.

A page of the feed is bounded in bytes as well as items: one statement reads the page's
changes with their sizes and the notes that fit (the rest wait for the next page), so a page
costs the same few statements whatever its length, and its notes are read in one snapshot.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, and_, cast, func, literal, null, or_, select, text, union_all
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import ChangeCounter, Note, NoteTombstone, utcnow

TOMBSTONE_DAYS = 90
FEED_LIMIT_MAX = 500  # items a page of the feed holds at most
# What an item of the feed's JSON takes beside a note's title and content (its id, flags,
# tags, times, tasks and reminder), and a tombstone's whole item: the page's first read
# counts these; the API measures each item's JSON exactly after (app/features/api/changes.py).
NOTE_ITEM_BYTES = 600
TOMBSTONE_ITEM_BYTES = 100

# Prune the old tombstones and remember, per account, the newest number pruned: one statement.
PRUNE = text(
    "WITH gone AS (DELETE FROM note_tombstone WHERE deleted_at < :cutoff"
    " RETURNING user_id, seq)"
    " UPDATE note_change_counter AS counter"
    " SET forgotten_through = greatest(counter.forgotten_through, pruned.seq)"
    " FROM (SELECT user_id, max(seq) AS seq FROM gone GROUP BY user_id) AS pruned"
    " WHERE counter.user_id = pruned.user_id"
)


class Gone(Exception):
    """The feed was asked from a number older than the tombstones kept."""


@dataclass(frozen=True)
class Deletion:
    """A note deleted for good, as the feed lists it."""

    seq: int
    note_id: int
    deleted_at: datetime


def next_seq(user_id):
    """Return the account's next change number, holding its counter's lock until commit."""
    return next_seqs(user_id, 1)[0]


def next_seqs(user_id, count):
    """Return the account's next `count` change numbers (a range, in one statement), holding
    its counter's lock until commit."""
    statement = (
        insert(ChangeCounter)
        .values(user_id=user_id, last_seq=count)
        .on_conflict_do_update(
            index_elements=[ChangeCounter.user_id],
            set_={"last_seq": ChangeCounter.last_seq + count},
        )
        .returning(ChangeCounter.last_seq)
    )
    last = db.session.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)


def bury(note, seq):
    """Leave the tombstone of a note deleted for good, numbered `seq`."""
    db.session.add(
        NoteTombstone(note_id=note.id, user_id=note.user_id, seq=seq, deleted_at=utcnow())
    )


def feed(user_id, since, limit, most_bytes):
    """Return the account's changes after `since`, in order: a Note that exists, or a
    Deletion for one deleted for good. At most `limit` of them, and only as many as fit in
    about `most_bytes` of JSON, but always the first (a note is bounded by its text's length).
    Raise Gone when a tombstone after `since` may have been pruned."""
    forgotten = db.session.scalar(
        select(ChangeCounter.forgotten_through).where(ChangeCounter.user_id == user_id)
    )
    if since and since < (forgotten or 0):
        raise Gone
    notes = (
        select(
            Note.seq,
            Note.id.label("note_id"),
            cast(null(), DateTime(timezone=True)).label("deleted_at"),
            (
                func.octet_length(Note.title) + func.octet_length(Note.content) + NOTE_ITEM_BYTES
            ).label("size"),
        )
        .where(Note.user_id == user_id, Note.seq > since)
        .order_by(Note.seq)
        .limit(limit)
        .subquery()
    )
    stones = (
        select(
            NoteTombstone.seq,
            NoteTombstone.note_id,
            NoteTombstone.deleted_at,
            literal(TOMBSTONE_ITEM_BYTES).label("size"),
        )
        .where(NoteTombstone.user_id == user_id, NoteTombstone.seq > since)
        .order_by(NoteTombstone.seq)
        .limit(limit)
        .subquery()
    )
    changed = union_all(select(notes), select(stones)).subquery("changed")
    page = (
        select(changed, func.sum(changed.c.size).over(order_by=changed.c.seq).label("running"))
        .order_by(changed.c.seq)
        .limit(limit)
        .subquery("page")
    )
    rows = db.session.execute(
        select(page.c.seq, page.c.note_id, page.c.deleted_at, Note)
        .outerjoin(Note, and_(Note.id == page.c.note_id, page.c.deleted_at.is_(None)))
        .where(or_(page.c.running <= most_bytes, page.c.running == page.c.size))
        .order_by(page.c.seq)
    ).all()
    return [note or Deletion(seq, note_id, deleted_at) for seq, note_id, deleted_at, note in rows]


def prune_tombstones():
    """Delete tombstones older than TOMBSTONE_DAYS; their accounts' feeds then start after
    them. Return how many accounts were touched."""
    cutoff = utcnow() - timedelta(days=TOMBSTONE_DAYS)
    return db.session.execute(PRUNE, {"cutoff": cutoff}).rowcount
