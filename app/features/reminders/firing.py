"""Firing reminders exactly once: the sweeper records each occurrence and queues its mail (and
its push, when the account subscribed a browser) in one transaction; the mail job sends it
once (the push job: app/features/reminders/pushing.py).

The sweeper (app/features/reminders/tasks.py, every minute) locks as the note's writer does, the
account first: it takes the accounts of the due reminders with FOR UPDATE SKIP LOCKED (two
sweepers at once take different accounts; an account a person is saving in right now waits
for the next round), then their due reminders. For each it inserts the occurrence (unique per
reminder and moment: a second insert of it does nothing), queues its delivery in the same
transaction, and moves the reminder to its next time through the note's writer, so the note's
revision and the account's change number move with its `next_at`. A sweeper killed mid-batch
commits nothing: the next one does the batch again, once.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from app import mail
from app.extensions import db
from app.features.notes import events
from app.features.notes import reminders as service
from app.features.notes import service as notes
from app.features.reminders import links
from app.features.reminders.subscriptions import push_offered
from app.models import (
    Note,
    PushSubscription,
    Reminder,
    ReminderOccurrence,
    User,
    lock_user,
    utcnow,
)

HOUR = timedelta(hours=1)


class TemporaryPushError(Exception):
    """A push service did not take a push this time (no answer, a 5xx, a 429): retried."""


def sweep(moment, batch):
    """Fire up to `batch` reminders due at `moment`; return how many were fired (fewer than
    `batch` when no more are due, or their accounts are busy: the next round takes them), and
    the (user id, occurrence id) of each new occurrence, whose mail the caller queues before it
    commits."""
    due = select(Reminder).join(Note, Note.id == Reminder.note_id)
    due = due.where(Reminder.due_at <= moment, Note.deleted_at.is_(None))
    candidates = db.session.scalars(
        due.with_only_columns(Reminder.user_id).order_by(Reminder.due_at, Reminder.id).limit(batch)
    ).all()
    accounts = lock_free_accounts(set(candidates))
    taken = db.session.scalars(
        due.where(Reminder.user_id.in_(accounts))
        .order_by(Reminder.due_at, Reminder.id)
        .limit(batch)
        .with_for_update(of=Reminder)
    ).all()
    fired = [fire(reminder, moment) for reminder in taken]
    return len(taken), [found for found in fired if found is not None]


def lock_free_accounts(user_ids):
    """Take the row locks of the accounts in `user_ids` that no one holds; return their ids.

    The account before its reminders, as every writer of a note takes them: a save that holds
    the account and waits for a reminder never meets a sweeper holding it the other way.
    """
    return db.session.scalars(
        select(User.id)
        .where(User.id.in_(user_ids))
        .order_by(User.id)
        .with_for_update(skip_locked=True)
    ).all()


def fire(reminder, moment):
    """Record the occurrence `reminder` is due for and move it on, inside the note's writer;
    return (user id, occurrence id), or None when that occurrence was recorded before."""
    occurrence_id = db.session.scalar(
        insert(ReminderOccurrence)
        .values(
            reminder_id=reminder.id,
            note_id=reminder.note_id,
            user_id=reminder.user_id,
            due_at=reminder.due_at,
            generation=reminder.generation,
            fired_at=moment,
        )
        .on_conflict_do_nothing(constraint="uq_reminder_occurrence_reminder_id")
        .returning(ReminderOccurrence.id)
    )
    with notes.touching(reminder.user_id, reminder.note, events.FIRED, counted=False) as note:
        service.advance(note, reminder, moment)
    return None if occurrence_id is None else (reminder.user_id, occurrence_id)


def wants_push(user_id, occurrence_id):
    """Mark the occurrence's push queued when Web Push is set up and the account subscribed a
    browser; return whether it did (the caller queues the push job)."""
    if not push_offered() or not PushSubscription.count_of(user_id):
        return False
    db.session.execute(
        update(ReminderOccurrence)
        .where(ReminderOccurrence.id == occurrence_id)
        .values(push_outcome="queued")
    )
    return True


def deliver(occurrence_id):
    """Mail an occurrence once, unless it went void or the account's hourly budget is spent."""
    occurrence = db.session.scalar(
        select(ReminderOccurrence).where(ReminderOccurrence.id == occurrence_id).with_for_update()
    )
    if occurrence is None or occurrence.outcome != "queued":
        return  # its reminder was removed (the row went with it), or it was handled
    user = db.session.get(User, occurrence.user_id)
    lock_user(user.id)
    occurrence.outcome = outcome_of(occurrence, user)
    if occurrence.outcome != "queued":
        db.session.commit()
        return
    with force_locale(user.language or "en"):
        message = reminder_mail(user, occurrence)
    mail.send(message)  # a failure rolls back: the retry finds it queued
    occurrence.outcome, occurrence.sent_at = "sent", utcnow()
    db.session.commit()


def outcome_of(occurrence, user):
    """Return "void" when the occurrence should no longer be mailed, "held" when the
    account's hourly budget is spent (or it has no verified address), else "queued"."""
    reminder, note = occurrence.reminder, occurrence.note
    if reminder.generation != occurrence.generation or note.deleted_at is not None:
        return "void"
    if not user.email_verified:
        return "held"
    sent = db.session.scalar(
        select(func.count())
        .select_from(ReminderOccurrence)
        .where(
            ReminderOccurrence.user_id == user.id,
            ReminderOccurrence.sent_at > utcnow() - HOUR,
        )
    )
    return "held" if sent >= current_app.config["REMINDER_MAILS_PER_HOUR"] else "queued"


def reminder_mail(user, occurrence):
    """Return the mail of an occurrence, to the account's own address, in its language."""
    note, private = occurrence.note, occurrence.reminder.private
    subject = (
        gettext("Reminder: a note of yours")
        if private
        else gettext("Reminder: %(title)s", title=note.title)
    )
    action_link = links.occurrence_link(occurrence, user)
    message = mail.compose(
        user.email,
        subject,
        "reminder",
        nickname=user.nickname,
        title=None if private else note.title,
        note_link=mail.link("notes.detail", note_id=note.id),
        action_link=action_link,
        due_link=mail.link("reminders.due"),
    )
    # One Message-ID per occurrence: a mail sent again after a crash between the server's
    # answer and our commit reads as the same message to clients that collapse duplicates.
    domain = message["Message-ID"].rpartition("@")[2].rstrip(">")
    message.replace_header("Message-ID", f"<reminder-{occurrence.id}@{domain}>")
    return message
