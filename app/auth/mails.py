"""What each mail to an account says and who gets it; the send_account_mail job calls deliver().

An address that is not verified receives verification mail only: every other kind for an
unverified account is sent as a verification mail, or not at all. A link's token is made
here, in the worker, and stored (as its hash) before the mail leaves: it is never written
anywhere in clear, not even in the job's arguments.
"""

from flask import current_app
from flask_babel import force_locale, gettext

from app import mail
from app.extensions import db
from app.models import MailToken, User


def hours(lifetime):
    """Return a lifetime in whole hours, as a mail states it."""
    return round(lifetime.total_seconds() / 3600)


def verification(user, new_password_hash=None):
    """Return a mail with a link that verifies the account's address, unless it is verified.

    `new_password_hash` comes from a sign-up that found this account unverified: opening the
    link then sets that password, so an account someone made with another's address before
    them ends up with the password of whoever holds the mailbox.
    """
    if user.email_verified:
        return None
    lifetime = current_app.config["VERIFY_LINK_LIFETIME"]
    token = MailToken.issue(user, "verify", user.email, lifetime, new_password_hash)
    link = mail.link("auth.verify", token=token)
    context = {"nickname": user.nickname, "link": link, "hours": hours(lifetime)}
    return mail.compose(
        user.email, gettext("Confirm your email address for Memo"), "verify", **context
    )


def notice(user, subject, template, **context):
    """Return a notice to the account's verified address; an unverified one gets none."""
    if not user.email_verified:
        return None
    links = {"login_link": mail.link("auth.login"), "reset_link": mail.link("auth.reset")}
    return mail.compose(user.email, subject, template, nickname=user.nickname, **links, **context)


def signup_notice(user, new_password_hash=None):
    """Tell the owner of an address that someone signed up with it (or verify it, with the
    sign-up's password)."""
    if not user.email_verified:
        return verification(user, new_password_hash)
    subject = gettext("Someone tried to sign up for Memo with your address")
    return notice(user, subject, "signup_notice")


def reset(user):
    """Send a link to choose a new password (an unverified address: a verification link)."""
    if not user.email_verified:
        return verification(user)
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
    return notice(user, subject, "email_in_use")


def email_changed(user, old_email):
    """Tell the address an account just left (it was verified: see auth.routes.verify)."""
    context = {"nickname": user.nickname, "new_email": user.email}
    return mail.compose(
        old_email, gettext("Your Memo address was changed"), "email_changed", **context
    )


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
