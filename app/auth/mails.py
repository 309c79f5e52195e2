"""What each mail to an account says and who gets it; the send_account_mail job calls deliver().

The rules every mailed link follows are in docs/mail.md ("One identity model for mailed
links"). Notices go to an account's verified address only, each with a "this was not me"
link that secures the account (auth.routes.secure). A link's token is made here, in the
worker, and stored (as its hash) before the mail leaves: it is never written anywhere in
clear, not even in the job's arguments.
"""

from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale, get_locale, gettext

from app import mail
from app.extensions import db
from app.models import MailToken, User


def hours(lifetime):
    """Return a lifetime in whole hours, as a mail states it."""
    return round(lifetime.total_seconds() / 3600)


def days(lifetime):
    """Return a lifetime in whole days, as a mail states it."""
    return round(lifetime.total_seconds() / 86400)


def local_date(user, moment):
    """Return the day of `moment` in the account's zone, as its language writes it."""
    return format_date(moment.astimezone(ZoneInfo(user.time_zone)), "long", locale=get_locale())


def removal_link(user):
    """Return the link that removes `user`, an unconfirmed account, for its address's holder."""
    token = MailToken.issue(user, "remove", user.email, current_app.config["REMOVE_LINK_LIFETIME"])
    return mail.link("auth.remove", token=token)


def verification(user):
    """Return a mail with a link that verifies the account's address, unless it is verified.

    It also carries a link that removes the account, for an address's holder who never
    signed up: whoever made it with their address keeps nothing (docs/mail.md).
    """
    if user.email_verified:
        return None
    lifetime = current_app.config["VERIFY_LINK_LIFETIME"]
    token = MailToken.issue(user, "verify", user.email, lifetime)
    context = {
        "nickname": user.nickname,
        "link": mail.link("auth.verify", token=token),
        "remove_link": removal_link(user),
        "hours": hours(lifetime),
    }
    return mail.compose(
        user.email, gettext("Confirm your email address for Memo"), "verify", **context
    )


def notice(user, subject, template, to=None, undo=True, **context):
    """Return a notice to the account's verified address (or `to`, an address it had); an
    unverified address gets none. With `undo`, it has a "this was not me" link that undoes
    what it announces (auth.routes.secure)."""
    if to is None and not user.email_verified:
        return None
    to = to or user.email
    links = {"login_link": mail.link("auth.login"), "reset_link": mail.link("auth.reset")}
    if undo:
        lifetime = current_app.config["SECURE_LINK_LIFETIME"]
        token = MailToken.issue(user, "secure", to, lifetime)
        links.update(secure_link=mail.link("auth.secure", token=token), secure_days=days(lifetime))
    return mail.compose(to, subject, template, nickname=user.nickname, **links, **context)


def signup_notice(user, new_password_hash=None):
    """Tell the holder of an address that someone signed up with it again.

    Nothing of the second sign-up is kept: its password never reaches the account, and the
    mail is not a second verification that one could mistake for one's own
    (`new_password_hash` comes only in jobs queued by a release before 0018, and is ignored).
    """
    del new_password_hash
    if user.email_verified:
        subject = gettext("Someone tried to sign up for Memo with your address")
        return notice(user, subject, "signup_notice", undo=False)  # nothing happened
    subject = gettext("Someone signed up for Memo again with your address")
    context = {
        "nickname": user.nickname,
        "login_link": mail.link("auth.login"),
        "reset_link": mail.link("auth.reset"),
        "remove_link": removal_link(user),
        "created": local_date(user, user.created_at),
    }
    return mail.compose(user.email, subject, "signup_notice_unconfirmed", **context)


def reset(user):
    """Send a link to choose a new password (it confirms an unconfirmed address too)."""
    lifetime = current_app.config["RESET_LINK_LIFETIME"]
    token = MailToken.issue(user, "reset", user.email, lifetime)
    link = mail.link("auth.reset_password", token=token)
    minutes = round(lifetime.total_seconds() / 60)
    context = {"nickname": user.nickname, "link": link, "minutes": minutes}
    return mail.compose(user.email, gettext("Reset your Memo password"), "reset", **context)


def password_changed(user):
    return notice(user, gettext("Your Memo password was changed"), "password_changed")


def email_change(user, new_email):
    """Send the link that moves the account to `new_email`, to that address."""
    lifetime = current_app.config["EMAIL_CHANGE_LINK_LIFETIME"]
    token = MailToken.issue(user, "email", new_email, lifetime)
    link = mail.link("auth.verify", token=token)
    context = {"nickname": user.nickname, "link": link, "hours": hours(lifetime)}
    subject = gettext("Confirm your new email address for Memo")
    return mail.compose(new_email, subject, "email_change", **context)


def email_change_requested(user):
    subject = gettext("A change of your Memo address was asked for")
    return notice(user, subject, "email_change_requested")


def email_in_use(user):
    subject = gettext("Someone tried to move an account to your address")
    return notice(user, subject, "email_in_use", undo=False)  # nothing happened


def email_changed(user, old_email):
    """Tell the address an account just left (it was verified: see auth.routes.verify); its
    "this was not me" link moves the account back there."""
    subject = gettext("Your Memo address was changed")
    return notice(user, subject, "email_changed", to=old_email, new_email=user.email)


def account_deleted(user, address, nickname):
    """Say goodbye to the address a deleted account had (deferred only if it was verified)."""
    subject = gettext("Your Memo account was deleted")
    return mail.compose(address, subject, "account_deleted", nickname=nickname)


# Each kind of mail about an account that still exists...
MAILS = {
    "verify": verification,
    "signup_notice": signup_notice,
    "reset": reset,
    "password_changed": password_changed,
    "email_change": email_change,
    "email_change_requested": email_change_requested,
    "email_in_use": email_in_use,
    "email_changed": email_changed,
}
# ...and those sent to an address given in the job (the account may be gone).
ADDRESSED_MAILS = {"account_deleted": account_deleted}


def deliver(kind, user_id=None, **details):
    """Compose and send mail `kind` for account `user_id`; nothing if there is none any more.

    A reset asked for an unknown address is deferred too (user_id None), so that both
    answers do the same work; it ends here.
    """
    user = db.session.get(User, user_id) if user_id is not None else None
    # In the account's language; a deleted account's goodbye in the one it had (or English).
    language = (user.language if user else details.pop("language", None)) or "en"
    with force_locale(language):
        if kind in ADDRESSED_MAILS:
            message = ADDRESSED_MAILS[kind](user, **details)
        else:
            message = MAILS[kind](user, **details) if user is not None else None
    if message is None:
        return
    db.session.commit()  # the link's token is stored before the mail can be opened
    mail.send(message)
