"""A note's `reminder` in the API: how it is shown, and how PATCH sets or removes it.

`at` is the reminder's wall-clock start in its zone and `next_at` the next time it fires,
both RFC 3339 with that zone's offset. PATCH takes `{"at", "repeat"}` (and `private`) or
null: an `at` with an offset is that instant on the account's clock; one without is the
account's own clock. Every change goes through app/features/notes/reminders.py.
"""

from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.features.notes import reminders as service
from app.features.notes import schedule
from app.models import Reminder


def reminders_of(note_ids):
    """Return {note id: Reminder} for these notes (one query for a page of notes)."""
    if not note_ids:
        return {}
    found = db.session.scalars(select(Reminder).where(Reminder.note_id.in_(note_ids)))
    return {reminder.note_id: reminder for reminder in found}


def reminder_json(reminder):
    """Return a reminder as the API shows it, or None."""
    if reminder is None:
        return None
    zone = ZoneInfo(reminder.time_zone)
    start = schedule.in_utc(reminder.starts_at, reminder.time_zone).astimezone(zone)
    return {
        "at": start,
        "repeat": reminder.repeat,
        "next_at": reminder.due_at and reminder.due_at.astimezone(zone),
        "private": reminder.private,
    }


def wall_clock_of(at, zone):
    """Return the wall-clock time of the account's `zone` that `at` names."""
    if at.tzinfo is None:
        return at.replace(second=0, microsecond=0)
    return schedule.wall_clock(at, zone).replace(second=0, microsecond=0)


def set_reminder(note, asked, zone):
    """Set the note's reminder as the body's `reminder` asks (None removes it); 422 when
    it cannot be set."""
    wanted = None
    if asked is not None:
        starts_at = wall_clock_of(asked["at"], zone)
        wanted = service.Wanted(starts_at, zone, asked["repeat"], asked.get("private", False))
    service.change(note, wanted)  # a ReminderRefused is 422, its field `reminder`
