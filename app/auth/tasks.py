"""The accounts' jobs: send an account's mail, and prune the links that no longer work."""

import logging

from app import jobs
from app.auth import mails
from app.extensions import db
from app.mail import TemporaryMailError
from app.models import MailToken

logger = logging.getLogger("memo.mail")

# A server that is down or answers 4xx is tried again for about 2 hours (2, 4, 8 ... s);
# a 5xx fails the job at once, logged without the address (app/mail.py).
MAIL_ATTEMPTS = 12


@jobs.queue.task(
    name="send_account_mail",
    retry=jobs.retrying(MAIL_ATTEMPTS, errors=(*jobs.TRANSIENT_ERRORS, TemporaryMailError)),
)
def send_account_mail(kind, user_id=None, **details):
    """Send mail `kind` (see app/auth/mails.py) for account `user_id`."""
    mails.deliver(kind, user_id, **details)


@jobs.queue.periodic(cron="21 * * * *", periodic_id="hourly")
@jobs.queue.task(name="delete_spent_mail_tokens", queueing_lock="delete_spent_mail_tokens")
def delete_spent_mail_tokens(timestamp):
    """Delete mailed links that expired or were used: they open nothing any more."""
    logger.info("deleted %s spent mail links", MailToken.delete_spent())
    db.session.commit()


def defer_mail(kind, user_id=None, **details):
    """Queue mail `kind` in the session's transaction: it is sent only if that commits."""
    jobs.defer(send_account_mail, kind=kind, user_id=user_id, **details)
