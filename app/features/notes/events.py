"""The one event point of note changes: app/features/notes/service.py calls emit() once per change,
in the transaction that makes it, so an event exists exactly when its change committed.

The event is a row of note_event (an outbox: a worker may read it after the commit), and each
function in SUBSCRIBERS is called with it inside the transaction, where it may write rows of
its own (a reminder's next mail, a webhook's delivery job deferred with procrastinate, which
is transactional too): app/features/webhooks/tasks.py wakes the account's webhooks. Events are
kept EVENT_DAYS, and longer while a webhook has not made them deliveries yet.
"""

from datetime import timedelta

from sqlalchemy import delete, exists

from app.extensions import db
from app.models import NoteEvent, Webhook, utcnow

CREATED, DELETED = "created", "deleted"
RESTORED = "restored"  # `trashed` going back to false: the note is out of the trash
FIRED = "fired,reminder"  # a reminder's occurrence fired: its `next_at` moved
EVENT_DAYS = 7
SUBSCRIBERS = []  # callables taking the NoteEvent, run in the writing transaction


def subscribe(function):
    """Call `function(event)` for every note change from now on, in its transaction."""
    SUBSCRIBERS.append(function)
    return function


def kind_of(found):
    """Return the event kind of a change of the fields `found` ({field: new value})."""
    names = {RESTORED if name == "trashed" and not found[name] else name for name in found}
    return ",".join(sorted(names))


def emit(user_id, note_id, seq, kind):
    """Record one change (`kind`: created, deleted, or the fields changed, comma-separated)
    and tell the subscribers."""
    event = NoteEvent(user_id=user_id, note_id=note_id, seq=seq, kind=kind, created_at=utcnow())
    db.session.add(event)
    for subscriber in SUBSCRIBERS:
        subscriber(event)
    return event


def delete_old():
    """Delete events older than EVENT_DAYS that no webhook waits for (one still on, whose
    `seq_through` is below the event's); return how many."""
    cutoff = utcnow() - timedelta(days=EVENT_DAYS)
    waited_for = exists().where(
        Webhook.user_id == NoteEvent.user_id,
        Webhook.disabled_at.is_(None),
        Webhook.seq_through < NoteEvent.seq,
    )
    return db.session.execute(
        delete(NoteEvent).where(NoteEvent.created_at < cutoff, ~waited_for)
    ).rowcount
