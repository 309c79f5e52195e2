"""The webhooks' jobs: an account's deliveries sent as its notes change, and every minute
the retries that came due (and anything a missed wake-up left).

A note's change wakes its account's webhooks from the one event point
(app/features/notes/events.py): in the writing transaction, when the account has a webhook
on, a `send_webhooks` job is queued in the account's lane (`user:<id>`, with its other jobs),
so one account's deliveries go one at a time and take one worker slot however many it has.
An account has one such job waiting at most (the queueing lock `webhooks:<id>`): changes and
presses while it waits add deliveries, not jobs. A job sends for SEND_SECONDS, then queues
the rest: behind every job that waited meanwhile (the queue runs the oldest first), so a few
accounts with receivers that never answer take turns with everyone else, where their
backlogs of jobs, one a press, held every slot.
"""

import logging
from datetime import timedelta

from sqlalchemy import exists, select

from app import jobs, throttle
from app.extensions import db
from app.features.notes import events
from app.features.webhooks import outbox
from app.models import Webhook, WebhookThrottle

logger = logging.getLogger("memo.webhooks")
blueprint = jobs.Blueprint()
HOUR = timedelta(hours=1)

# A job sends for this long at most, then queues the rest (the worker's stop gives a running
# job 20 s; an attempt takes WEBHOOK_DEADLINE_SECONDS at most).
SEND_SECONDS = 12


def queue_sending(user_id):
    """Queue the account's deliveries in the session's transaction, unless its job waits
    already (that one sends them: it reads what is due when it runs). A savepoint keeps the
    transaction whole when the queueing lock refuses a second job."""
    try:
        with db.session.begin_nested():
            jobs.queue_job(
                send_webhooks,
                f"user:{user_id}",
                {"user_id": user_id},
                queueing_lock=f"webhooks:{user_id}",
            )
    except jobs.AlreadyQueued:
        pass


# session.info's key: (the transaction, the accounts it woke). One job a transaction an
# account: emptying a trash of 1,000 notes queues one, not 1,000.
WOKEN = "webhooks_woken"


def first_in_transaction(user_id):
    """Return whether this transaction has not woken the account's webhooks yet."""
    session = db.session()  # the scoped session's own: scoped_session does not proxy this
    transaction = session.get_transaction()
    seen_in, woken = session.info.get(WOKEN, (None, set()))
    if seen_in is not transaction:
        woken = set()
        session.info[WOKEN] = (transaction, woken)
    if user_id in woken:
        return False
    woken.add(user_id)
    return True


@events.subscribe
def wake(event):
    """Queue the account's deliveries when it has a webhook on (one indexed look-up, once a
    transaction)."""
    if not first_in_transaction(event.user_id):
        return
    has_webhook = db.session.scalar(
        select(
            exists().where(
                Webhook.user_id == event.user_id,
                Webhook.paused_at.is_(None),
                Webhook.disabled_at.is_(None),
            )
        )
    )
    if has_webhook:
        queue_sending(event.user_id)


@blueprint.task(name="send_webhooks", retry=jobs.retrying(3))
def send_webhooks(user_id):
    """Send the account's due deliveries; queue the rest when time runs out."""
    from app.features.webhooks.delivery import (  # the worker's: the web never loads the fetcher
        send_due,
    )

    sent = send_due(user_id, SEND_SECONDS)
    if sent and outbox.next_due(user_id) is not None:
        queue_sending(user_id)
        db.session.commit()


@blueprint.periodic(cron="* * * * *", periodic_id="webhooks")
@blueprint.task(name="retry_webhooks", queueing_lock="retry_webhooks", queue=jobs.MAINTENANCE_QUEUE)
def retry_webhooks(timestamp):
    """Queue the deliveries of every account with retries due or events not collected."""
    accounts = outbox.accounts_waiting()
    for user_id in accounts:
        queue_sending(user_id)
    db.session.commit()
    old = outbox.delete_old()
    throttle.prune(
        HOUR, [outbox.BUDGET_SCOPE], WebhookThrottle
    )  # the hourly budgets' ended windows
    db.session.commit()
    if accounts or old:
        logger.info("queued webhooks of %s accounts; deleted %s old deliveries", len(accounts), old)
