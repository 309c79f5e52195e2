"""What the reminder tests share: set a reminder as a person does, let its time come, run
the sweeper and the mail jobs, read the reminder mails."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from app.extensions import db
from app.features.notes import reminders as service
from app.features.notes import service as notes
from app.features.reminders.tasks import sweep_due_reminders
from app.models import Reminder, ReminderOccurrence
from tests.mailbox import ANN
from tests.note_writers import set_up_directly
from tests.workers import run_queued_jobs

SEOUL = "Asia/Seoul"


def tomorrow_at(hour, zone=SEOUL):
    """Return `YYYY-MM-DDTHH:00` of tomorrow on the clock of `zone`."""
    day = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hour:02d}:00"


def note_with_reminder(browser, title="Dentist", repeat="none", **form):
    """Write a note and set a reminder on it from its page (tomorrow 09:00); return its id."""
    created = browser.create_note(title, "Call at nine")
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    answer = browser.post(
        f"/notes/{note_id}/reminder", {"at": tomorrow_at(9), "repeat": repeat, **form}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return note_id


def add_reminders(app, user_id, count, repeat="none"):
    """Give account `user_id` `count` notes with a reminder each (through their writers)."""
    with app.app_context():
        start = (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None, second=0)
        for number in range(count):
            note = notes.new_note(user_id, f"Note {number}", "")
            service.change(note, service.Wanted(start, "UTC", repeat))
        db.session.commit()


def come_due(app, note_id=None):
    """Let the time of every reminder (or the note's) come: due half a minute ago."""
    where = "" if note_id is None else "WHERE note_id = :note_id"
    with app.app_context(), set_up_directly():  # the clock moved on
        db.session.execute(
            text(
                "UPDATE reminder SET next_at = now() - interval '30 seconds',"
                f" due_at = now() - interval '30 seconds' {where}"
            ),
            {"note_id": note_id},
        )
        db.session.commit()


def sweep(app):
    """Run the sweeper once, as the minute's job does; return how many fired."""
    with app.app_context():
        return sweep_due_reminders()


def deliver(app):
    """Run the queued jobs (the reminder mails among them), in this process."""
    run_queued_jobs(app)


def reminder_mails(mail_server, address=ANN):
    """Return the reminder mails `address` received."""
    return [m for m in mail_server.to(address) if m["Subject"].startswith("Reminder")]


def occurrences(app):
    """Return (note id, outcome, done) of every occurrence, in order."""
    with app.app_context():
        return db.session.execute(
            select(
                ReminderOccurrence.note_id,
                ReminderOccurrence.outcome,
                ReminderOccurrence.done_at.is_not(None),
            ).order_by(ReminderOccurrence.id)
        ).all()


def reminder_row(app, note_id):
    """Return the note's reminder (detached), or None."""
    with app.app_context():
        reminder = db.session.scalar(select(Reminder).where(Reminder.note_id == note_id))
        if reminder is not None:
            db.session.expunge(reminder)
        return reminder


def count_reminders(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Reminder))


def reminder_jobs(app):
    """Return how many reminder mail jobs were queued."""
    with app.app_context():
        return db.session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_reminder'")
        )
