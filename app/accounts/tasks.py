"""The accounts' jobs: send an account's mail, and delete what no longer signs anyone in."""

import logging

from flask import current_app

from app import jobs, throttle
from app.accounts import mails
from app.extensions import db
from app.mail import TemporaryMailError, recipient_id
from app.models import AddressHold, LoginSession, MailToken, TwoStepThrottle, utcnow

logger = logging.getLogger("memo.mail")
blueprint = jobs.Blueprint()

# A server that is down or answers 4xx is tried again for about 2 hours (2, 4, 8 ... s, then
# every 15 minutes); a 5xx fails the job at once, logged without the address (app/mail.py).
MAIL_ATTEMPTS = 16


@blueprint.task(
    name="send_account_mail",
    queue=jobs.MAIL_QUEUE,  # a slot of its own: a provider that hangs stalls no other job
    retry=jobs.retrying(MAIL_ATTEMPTS, errors=(*jobs.TRANSIENT_ERRORS, TemporaryMailError)),
)
def send_account_mail(kind, user_id=None, **details):
    """Send mail `kind` (see app/accounts/mails.py) for account `user_id`."""
    mails.deliver(kind, user_id, **details)


def defer_mail(kind, user_id=None, **details):
    """Queue mail `kind` in the session's transaction: it is sent only if that commits."""
    jobs.defer(send_account_mail, kind=kind, user_id=user_id, **details)


def defer_notices(kind, user, actor=None, farewell=(), **details):
    """Queue notice `kind` to every address of `user` with standing (docs/mail.md, "Who may
    undo what"); `actor`: the address the act was done from, if any; `farewell`: addresses
    that lost their standing by this act, told this once."""
    for email, _, _ in AddressHold.standing(user):
        defer_mail(kind, user.id, to=email, actor=actor, **details)
    for email in farewell:
        defer_mail(kind, user.id, to=email, actor=actor, farewell=True, **details)


def tell_reading_changed(user, old_language, old_zone):
    """Tell every address with standing, in the language the account had, that its language
    or time zone changed: notices follow them from now on, so a session that changes them
    (an intruder's) cannot make the owner's next notices unreadable unnoticed."""
    if (user.language, user.time_zone) != (old_language, old_zone):
        language = old_language or "en"
        defer_notices("reading_changed", user, in_language=language, at=utcnow().isoformat())


def defer_unasked_mail(kind, user_id, address, **details):
    """Queue mail that someone's action sends to `address`, within the address's hourly
    budget from every account together (MAILS_PER_RECIPIENT); past it, nothing is sent and
    the asker is told the same as ever."""
    if throttle.mail_recipient_has_room(address):
        defer_mail(kind, user_id, **details)
    else:
        logger.warning(
            "mail not sent: recipient's hourly budget spent kind=%s recipient=%s",
            kind,
            recipient_id(address),
        )


# --- Maintenance, on a schedule (one run per period, however many workers run) ---------


@blueprint.periodic(cron="21 * * * *", periodic_id="hourly")
@blueprint.task(name="delete_spent_mail_tokens", queueing_lock="delete_spent_mail_tokens")
def delete_spent_mail_tokens(timestamp):
    """Delete mailed links that expired or were used: they open nothing any more."""
    logger.info("deleted %s spent mail links", MailToken.delete_spent())
    db.session.commit()


@blueprint.periodic(cron="7 * * * *", periodic_id="hourly")
@blueprint.task(
    name="delete_expired_login_sessions",
    queueing_lock="delete_expired_login_sessions",
    queue=jobs.MAINTENANCE_QUEUE,
)
def delete_expired_login_sessions(timestamp):
    """Delete login sessions past their lifetime (they already sign nobody in)."""
    LoginSession.delete_expired(current_app.config["LOGIN_SESSION_LIFETIME"])
    db.session.commit()


@blueprint.periodic(cron="9 * * * *", periodic_id="hourly")
@blueprint.task(
    name="delete_ended_throttle_windows",
    queueing_lock="delete_ended_throttle_windows",
    queue=jobs.MAINTENANCE_QUEUE,
)
def delete_ended_throttle_windows(timestamp):
    """Delete throttle rows whose window has ended (of any scope: the longest window)."""
    throttle.delete_ended_windows(throttle.longest_window(current_app.config))
    throttle.delete_ended_windows(current_app.config["TWO_STEP_DAY"], TwoStepThrottle)
    db.session.commit()
