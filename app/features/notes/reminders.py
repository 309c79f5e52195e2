"""The one writer of reminders: setting, changing, removing, firing, snoozing, pausing.

Every change of a reminder goes through `write()`, which moves its generation when the
person changed it (an occurrence queued under an older generation sends nothing). A reminder
is part of what a reader sees of its note: callers change it inside the note's writer
(`app.features.notes.service.touching`, or its `change()` for the trash), which moves the note's
revision and shows it in the change feed. The rules of each way in (the pages, the API, the
sweeper, a mail's snooze link) are the functions around it. Callers commit.
"""

from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import func, select

from app.errors import Refused
from app.extensions import db
from app.features.notes import schedule
from app.models import Reminder, lock_user, utcnow
from app.writers import writing

# A one-time reminder may be set for the minute that is passing (the sweeper fires it).
GRACE = timedelta(minutes=1)


class ReminderRefused(Refused):
    """A reminder that cannot be set; the text says why, in the reader's language."""


class Wanted(NamedTuple):
    """A reminder as a person asks for it: a wall-clock start in `zone`, a repeat."""

    starts_at: object  # naive datetime, to the minute
    zone: str
    repeat: str
    private: bool = False


def reminder_of(note_id, lock=False):
    """Return the note's reminder, or None."""
    statement = select(Reminder).where(Reminder.note_id == note_id)
    return db.session.scalar(statement.with_for_update() if lock else statement)


def soonest(*moments):
    """Return the soonest of the moments that are set, or None."""
    return min((moment for moment in moments if moment is not None), default=None)


@writing(Reminder)
def write(note, reminder, renew=False, remove=False, **values):
    """Change `reminder` of `note` (or `remove` it): the one place reminders change.

    `renew` marks a change the person made: occurrences already queued go void (removed
    ones go with their reminder).
    """
    if remove:
        db.session.delete(reminder)
    else:
        for name, value in values.items():
            setattr(reminder, name, value)
        paused = note.deleted_at is not None
        reminder.due_at = None if paused else soonest(reminder.next_at, reminder.snoozed_until)
        reminder.updated_at = utcnow()
        if renew and reminder.id is not None:
            reminder.generation = reminder.generation + 1
    db.session.flush()
    return None if remove else reminder


@writing(Reminder)
def change(note, wanted):
    """Set the note's reminder to `wanted` (a Wanted), or remove it (None).

    Raises ReminderRefused for a one-time reminder in the past, or past the account's
    REMINDERS_PER_USER (counted under the account's row lock).
    """
    lock_user(note.user_id)
    reminder = reminder_of(note.id, lock=True)
    if wanted is None:
        return write(note, reminder, remove=True) if reminder is not None else None
    rule = schedule.rule_for(wanted.repeat, wanted.starts_at)
    moment = schedule.now()
    first = schedule.next_after(wanted.starts_at, wanted.zone, rule, moment - GRACE)
    if first is None:
        raise ReminderRefused(gettext("Choose a time that has not passed yet."), field="reminder")
    if reminder is None:
        check_room(note.user_id)
        reminder = Reminder(note_id=note.id, user_id=note.user_id)
        db.session.add(reminder)
    return write(
        note,
        reminder,
        renew=True,
        starts_at=wanted.starts_at,
        time_zone=wanted.zone,
        repeat=wanted.repeat,
        rule=rule,
        next_at=first,
        snoozed_until=None,
        private=wanted.private,
    )


def check_room(user_id):
    """Raise ReminderRefused when the account has REMINDERS_PER_USER reminders already."""
    most = current_app.config["REMINDERS_PER_USER"]
    count = db.session.scalar(
        select(func.count()).select_from(Reminder).where(Reminder.user_id == user_id)
    )
    if count >= most:
        raise ReminderRefused(
            ngettext(
                "You have %(num)s reminder, the most an account may have: remove one first.",
                "You have %(num)s reminders, the most an account may have: remove one first.",
                most,
            ),
            field="reminder",
        )


def advance(note, reminder, moment):
    """Move a reminder that fired at `moment` on: past its snooze, to the rule's next time."""
    values = {}
    if reminder.snoozed_until is not None and reminder.snoozed_until <= moment:
        values["snoozed_until"] = None
    if reminder.next_at is not None and reminder.next_at <= moment:
        # A one-time reminder fires once, whenever its time came.
        values["next_at"] = reminder.rule and schedule.next_after(
            reminder.starts_at, reminder.time_zone, reminder.rule, moment
        )
    write(note, reminder, **values)


def snooze(note, reminder, until):
    """Fire the reminder again at `until` (the rule's own times stay)."""
    write(note, reminder, snoozed_until=until)


def pause(note):
    """Hold the reminder of a note moving to the trash: it fires nothing while there."""
    reminder = reminder_of(note.id, lock=True)
    if reminder is not None:
        write(note, reminder, next_at=reminder.next_at)


def resume(note):
    """Start the reminder of a note taken out of the trash again; return it (or None).

    A repeating one skips the times that passed in the trash; a one-time one whose time
    passed fires at once.
    """
    reminder = reminder_of(note.id, lock=True)
    if reminder is None:
        return None
    moment = schedule.now()
    next_at = reminder.next_at
    if next_at is not None and next_at <= moment and reminder.rule is not None:
        next_at = schedule.next_after(reminder.starts_at, reminder.time_zone, reminder.rule, moment)
    return write(note, reminder, next_at=next_at)
