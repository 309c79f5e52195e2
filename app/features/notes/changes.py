"""The account's change sequence, the tombstones of deleted notes, and the change feed.

Every change of a note takes the account's next number (next_seq) in its own transaction:
the counter's row lock queues the account's writers, so the numbers commit in order and a
reader that has seen N has seen everything below it. A note keeps the number of its last
change (note.seq); a note deleted for good leaves a tombstone with its own. The feed lists
both after a number, in order. Tombstones are kept TOMBSTONE_DAYS; the counter remembers the
newest one pruned (`forgotten_through`), and a feed asked from below it answers Gone: the
device must read everything again.
"""

from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import ChangeCounter, Note, NoteTombstone, utcnow

TOMBSTONE_DAYS = 90
FEED_LIMIT_MAX = 500  # items a page of the feed holds at most

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


def feed(user_id, since, limit):
    """Return up to `limit` of the account's changes after `since`, in order: (seq, Note) for
    a note that exists, (seq, NoteTombstone) for one deleted for good. Raise Gone when a
    tombstone after `since` may have been pruned."""
    forgotten = db.session.scalar(
        select(ChangeCounter.forgotten_through).where(ChangeCounter.user_id == user_id)
    )
    if since and since < (forgotten or 0):
        raise Gone
    notes = db.session.scalars(
        select(Note)
        .where(Note.user_id == user_id, Note.seq > since)
        .order_by(Note.seq)
        .limit(limit)
    ).all()
    stones = db.session.scalars(
        select(NoteTombstone)
        .where(NoteTombstone.user_id == user_id, NoteTombstone.seq > since)
        .order_by(NoteTombstone.seq)
        .limit(limit)
    ).all()
    return sorted([*notes, *stones], key=lambda item: item.seq)[:limit]


def prune_tombstones():
    """Delete tombstones older than TOMBSTONE_DAYS; their accounts' feeds then start after
    them. Return how many accounts were touched."""
    cutoff = utcnow() - timedelta(days=TOMBSTONE_DAYS)
    return db.session.execute(PRUNE, {"cutoff": cutoff}).rowcount
