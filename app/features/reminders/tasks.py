"""The reminders' jobs: the sweeper, every minute, and the mail and push of each occurrence."""

import logging
import time

from flask import current_app

from app import jobs
from app.accounts.tasks import MAIL_ATTEMPTS
from app.extensions import db
from app.features.notes import schedule
from app.features.reminders import firing
from app.mail import TemporaryMailError

logger = logging.getLogger("memo.reminders")
blueprint = jobs.Blueprint()

# A sweep stops taking new batches after this long: the next minute's run goes on.
SWEEP_SECONDS = 40
# A push service that does not take a push is tried again for about 8 minutes (2, 4 ... 256
# s): a reminder later than that is better left to the mail.
PUSH_ATTEMPTS = 8


@blueprint.periodic(cron="* * * * *", periodic_id="reminders")
@blueprint.task(
    name="fire_due_reminders", queueing_lock="fire_due_reminders", queue=jobs.MAINTENANCE_QUEUE
)
def fire_due_reminders(timestamp):
    """Fire every due reminder, a batch a transaction, each occurrence once."""
    sweep_due_reminders()


def sweep_due_reminders():
    """Fire the due reminders, a batch a transaction; return how many occurrences were new."""
    batch, started, fired = current_app.config["REMINDER_SWEEP_BATCH"], time.monotonic(), 0
    while True:
        taken, new = firing.sweep(schedule.now(), batch)
        for user_id, occurrence_id in new:
            queue_delivery(user_id, occurrence_id)
        db.session.commit()
        fired += len(new)
        if taken < batch or time.monotonic() - started > SWEEP_SECONDS:
            break
    if fired:
        logger.info("fired %s reminders", fired)
    return fired


def queue_delivery(user_id, occurrence_id):
    """Queue an occurrence's mail (and push) in the session's transaction; one account's
    reminder mails go one at a time, and its pushes in its own lane (each hourly budget is
    counted between them): a push service that never answers holds that one slot at most."""
    jobs.queue_job(send_reminder, f"reminder-mail:{user_id}", {"occurrence_id": occurrence_id})
    if firing.wants_push(user_id, occurrence_id):
        jobs.defer_for_user(user_id, push_reminder, occurrence_id=occurrence_id)


@blueprint.task(
    name="send_reminder",
    queue=jobs.MAIL_QUEUE,
    retry=jobs.retrying(MAIL_ATTEMPTS, errors=(*jobs.TRANSIENT_ERRORS, TemporaryMailError)),
)
def send_reminder(occurrence_id):
    """Mail one occurrence of a reminder, once."""
    firing.deliver(occurrence_id)


@blueprint.task(
    name="push_reminder",
    queue=jobs.DEFAULT_QUEUE,
    retry=jobs.retrying(PUSH_ATTEMPTS, errors=(*jobs.TRANSIENT_ERRORS, firing.TemporaryPushError)),
)
def push_reminder(occurrence_id):
    """Push one occurrence of a reminder to each browser of its account, once."""
    from app.features.reminders.pushing import (  # the worker's: the web never loads pywebpush
        deliver_push,
    )

    deliver_push(occurrence_id)
