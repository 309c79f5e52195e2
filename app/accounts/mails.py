"""What each mail to an account says and who gets it; the send_account_mail job calls deliver().

The rules every mailed link follows are in docs/mail.md ("The one rule", "Who may undo
what"). A notice goes to each verified address of the account with
standing (AddressHold), with a "this was not me" link that secures the account
(auth.mailed.secure) where that address may undo, and where the act it announces was not
done from it. A link's token is made here, in the
worker, and stored (as its hash) before the mail leaves: it is never written anywhere in
clear, not even in the job's arguments.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import current_app
from flask_babel import force_locale, get_locale, gettext

from app import mail
from app.extensions import db
from app.i18n.choice import place_of
from app.i18n.formats import DATE_TIME_PATTERNS
from app.i18n.languages import LANGUAGES
from app.models import (
    AccessToken,
    AddressHold,
    LoginSession,
    MailToken,
    User,
    Webhook,
    comparison_key,
)

# notice()'s `undo` for a notice of a second step added (or codes made).
SECOND_STEP_ADDED = "second step added"


def hours(lifetime):
    """Return a lifetime in whole hours, as a mail states it."""
    return round(lifetime.total_seconds() / 3600)


def days(lifetime):
    """Return a lifetime in whole days, as a mail states it."""
    return round(lifetime.total_seconds() / 86400)


def local_date(user, moment):
    """Return the day of `moment` in the account's zone, as its language writes it."""
    return format_date(moment.astimezone(ZoneInfo(user.time_zone)), "long", locale=get_locale())


def local_time(user, moment):
    """Return `moment` to the minute in the account's zone and language, with the zone's place
    as my page names it ("2026년 1월 2일 오후 12:04 (서울, 대한민국)")."""
    locale = get_locale()
    pattern = DATE_TIME_PATTERNS.get(locale.language, "medium")
    written = format_datetime(moment, pattern, tzinfo=ZoneInfo(user.time_zone), locale=locale)
    return f"{written} ({place_of(user.time_zone, locale)})"


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


def notice(user, subject, template, to=None, undo=True, actor=None, farewell=False, **context):
    """Return a notice to `to`, an address of the account with standing (by default its
    current one, if verified), or None if it has none any more.

    With `undo`, it carries a "this was not me" link (auth.mailed.secure) when that address
    may undo (AddressHold.may_undo) and `actor`, the address the act was done from, is
    another: the others say how to choose a new password instead. `undo` is "not to a
    password-only arrival" for a second step added: an address that came by a move needing
    no second step may be an intruder's, and an undo would hand them the account past the
    second step the owner just turned on (AddressHold.came_by_password_alone).
    """
    if undo == SECOND_STEP_ADDED:
        undo = not AddressHold.came_by_password_alone(user, to or user.email)
    to = to or user.email
    key = comparison_key(to)
    if key == comparison_key(user.email) and not user.email_verified:
        return None
    if AddressHold.rank_of(user, to) is None and not farewell:
        return None
    links = {"login_link": mail.link("auth.login"), "reset_link": mail.link("auth.reset")}
    if undo and AddressHold.may_undo(user, to) and key != comparison_key(actor or ""):
        lifetime = current_app.config["SECURE_LINK_LIFETIME"]
        token = MailToken.issue(user, "secure", to, lifetime)
        links.update(secure_link=mail.link("auth.secure", token=token), secure_days=days(lifetime))
    # Each recipient reads the text of its own role: the account's address now, or one it left.
    recipient = "current" if key == comparison_key(user.email) else "former"
    context.update(links, nickname=user.nickname, actor=actor, recipient=recipient)
    return mail.compose(to, subject, template, **context)


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


def password_changed(user, to=None, actor=None, farewell=False, ended=None):
    """Tell the addresses with standing that the password changed; after a reset, what the
    recovery ended (`ended`: app/accounts/ways_in.py's Ended)."""
    subject = gettext("Your Memo password was changed")
    context = {"ended": ended}
    return notice(
        user, subject, "password_changed", to=to, actor=actor, farewell=farewell, **context
    )


def email_change(user, new_email, session_id=None):
    """Send the link that moves the account to `new_email`, to that address, unless the
    session that asked for it has ended since (a recovery ended it: the move is void)."""
    if session_id is not None and db.session.get(LoginSession, session_id) is None:
        return None
    lifetime = current_app.config["EMAIL_CHANGE_LINK_LIFETIME"]
    token = MailToken.issue(user, "email", new_email, lifetime)
    link = mail.link("auth.verify", token=token)
    context = {"nickname": user.nickname, "link": link, "hours": hours(lifetime)}
    subject = gettext("Confirm your new email address for Memo")
    return mail.compose(new_email, subject, "email_change", **context)


def email_change_requested(user, to=None, actor=None):
    subject = gettext("A change of your Memo address was asked for")
    return notice(user, subject, "email_change_requested", to=to, actor=actor)


def email_in_use(user):
    subject = gettext("Someone tried to move an account to your address")
    return notice(user, subject, "email_in_use", undo=False)  # nothing happened


def email_changed(user, old_email=None, to=None, actor=None):
    """Tell the addresses with standing (the one just left among them) that the account
    moved; a "this was not me" link moves the account back to the address it is sent to."""
    if old_email is not None and to is None:  # a job of the release before 0022
        AddressHold.left_unrecorded(user, old_email)
    subject = gettext("Your Memo address was changed")
    context = {"new_email": user.email, "actor": actor}
    return notice(user, subject, "email_changed", to=to or old_email, **context)


def account_secured(user, to=None, actor=None, moved_back=False, farewell=False, ended=None):
    """Tell the addresses with standing that a "this was not me" link, mailed to `actor`,
    was used: a new password, every session ended, the account back at `actor` if moved."""
    subject = gettext("Your Memo account was secured")
    context = {"actor": actor, "moved_back": moved_back, "farewell": farewell, "ended": ended}
    return notice(user, subject, "account_secured", to=to, **context)


def token_made(user, token_id=None, to=None, actor=None, farewell=False):
    """Tell the addresses with standing that a personal access token was made: its name and
    access, when (in the account's zone), and the page that lists and revokes tokens."""
    subject = gettext("A personal access token was made for your Memo account")
    context = {"tokens_link": mail.link("tokens.index")}
    token = db.session.get(AccessToken, token_id) if token_id is not None else None
    if token is not None:
        context.update(
            name=token.name,
            may_write=token.may_write,
            made=local_time(user, token.created_at),
            until=local_time(user, token.expires_at),
        )
    return notice(user, subject, "token_made", to=to, actor=actor, farewell=farewell, **context)


def grant_made(user, to=None, actor=None, farewell=False, what=None, name=None, at=None):
    """Tell the addresses with standing that a grant was made (`what`: share_link, feed or
    webhook; `name`: its note's title, tag or address) and when, with the page that lists
    and ends such grants."""
    subject = gettext("A way to read your Memo notes without signing in was made")
    page = "webhooks.index" if what in ("feed", "webhook") else "mypage.index"
    context = {"what": what, "name": name, "grants_link": mail.link(page)}
    if at:
        context["made"] = local_time(user, datetime.fromisoformat(at))
    return notice(user, subject, "grant_made", to=to, actor=actor, farewell=farewell, **context)


def dated_notice(user, subject, template, to, actor, at, undo=True, **context):
    """Return notice `template` saying when the act was (`at`, ISO 8601), in the account's
    zone and language."""
    when = local_time(user, datetime.fromisoformat(at))
    return notice(user, subject, template, to=to, undo=undo, actor=actor, when=when, **context)


def two_step_on(user, to=None, actor=None, at=None, ended=None):
    subject = gettext("Two-step sign-in is on for your Memo account")
    undo = SECOND_STEP_ADDED
    return dated_notice(user, subject, "two_step_on", to, actor, at, undo, ended=ended)


def two_step_off(user, to=None, actor=None, at=None, passkeys_left=False):
    if passkeys_left:
        subject = gettext("The authenticator app was removed from your Memo account")
    else:
        subject = gettext("Two-step sign-in is off for your Memo account")
    return dated_notice(user, subject, "two_step_off", to, actor, at, passkeys_left=passkeys_left)


def passkey_added(user, to=None, actor=None, name="", at=None, ended=None):
    subject = gettext("A passkey was added to your Memo account")
    link = mail.link("two_step.security")
    context = {"name": name, "security_link": link, "ended": ended}
    undo = SECOND_STEP_ADDED
    return dated_notice(user, subject, "passkey_added", to, actor, at, undo, **context)


def passkey_removed(user, to=None, actor=None, name="", at=None):
    subject = gettext("A passkey was removed from your Memo account")
    return dated_notice(user, subject, "passkey_removed", to, actor, at, name=name)


def second_step_recovery_asked(user, to=None, actor=None, at=None, ends=None, lapses=None):
    """Tell every address with standing that turning the second step off was asked: from
    when it may be finished, and until when (`lapses`; none in jobs of the release before)."""
    subject = gettext("Turning off two-step sign-in was asked for your Memo account")
    ends = local_time(user, datetime.fromisoformat(ends))
    lapses = local_time(user, datetime.fromisoformat(lapses)) if lapses else None
    context = {"ends": ends, "lapses": lapses}
    return dated_notice(user, subject, "second_step_recovery_asked", to, actor, at, **context)


def second_step_recovered(user, to=None, actor=None, at=None):
    subject = gettext("Two-step sign-in is off for your Memo account")
    return dated_notice(user, subject, "second_step_recovered", to, actor, at)


def reading_changed(user, to=None, actor=None, at=None):
    """Tell the addresses with standing that the account's language or zone changed, in the
    language it had (deliver's `in_language`): what its mail is written in now, and its zone."""
    subject = gettext("The language or time zone of your Memo account was changed")
    context = {
        "language_name": LANGUAGES.get(user.language or "en", user.language),
        "zone": place_of(user.time_zone, get_locale()),
        "security_link": mail.link("mypage.index"),
    }
    return dated_notice(user, subject, "reading_changed", to, actor, at, **context)


def recovery_codes_made(user, to=None, actor=None, at=None):
    subject = gettext("New recovery codes were made for your Memo account")
    undo = SECOND_STEP_ADDED
    return dated_notice(user, subject, "recovery_codes_made", to, actor, at, undo)


def account_deleted(user, address, nickname):
    """Say goodbye to the address a deleted account had (deferred only if it was verified)."""
    subject = gettext("Your Memo account was deleted")
    return mail.compose(address, subject, "account_deleted", nickname=nickname)


def webhook_disabled(user, webhook_id=None):
    """Tell the account's owner that a webhook was turned off after a day of failed
    deliveries: its address, and the page that turns it on again."""
    webhook = db.session.get(Webhook, webhook_id) if webhook_id is not None else None
    if webhook is None:
        return None  # ended meanwhile
    subject = gettext("A webhook of your Memo account was turned off")
    context = {"url": webhook.url, "webhooks_link": mail.link("webhooks.index")}
    return notice(user, subject, "webhook_disabled", undo=False, **context)


def webhook_full(user, webhook_id=None):
    """Tell the account's owner that a webhook stopped collecting events: too many of the
    account's deliveries wait for its receivers."""
    webhook = db.session.get(Webhook, webhook_id) if webhook_id is not None else None
    if webhook is None:
        return None  # ended meanwhile
    subject = gettext("A webhook of your Memo account stopped taking events")
    context = {"url": webhook.url, "webhooks_link": mail.link("webhooks.index")}
    return notice(user, subject, "webhook_full", undo=False, **context)


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
    "account_secured": account_secured,
    "token_made": token_made,
    "grant_made": grant_made,
    "two_step_on": two_step_on,
    "two_step_off": two_step_off,
    "recovery_codes_made": recovery_codes_made,
    "reading_changed": reading_changed,
    "passkey_added": passkey_added,
    "passkey_removed": passkey_removed,
    "second_step_recovery_asked": second_step_recovery_asked,
    "second_step_recovered": second_step_recovered,
    "webhook_disabled": webhook_disabled,
    "webhook_full": webhook_full,
}
# ...and those sent to an address given in the job (the account may be gone).
ADDRESSED_MAILS = {"account_deleted": account_deleted}


def deliver(kind, user_id=None, **details):
    """Compose and send mail `kind` for account `user_id`; nothing if there is none any more.

    A reset asked for an unknown address is deferred too (user_id None), so that both
    answers do the same work; it ends here.
    """
    user = db.session.get(User, user_id) if user_id is not None else None
    # In the account's language (a change of it is told in the one it had: `in_language`); a
    # deleted account's goodbye in the one it had (or English).
    language = details.pop("in_language", None) or (
        (user.language if user else details.pop("language", None)) or "en"
    )
    with force_locale(language):
        if kind in ADDRESSED_MAILS:
            message = ADDRESSED_MAILS[kind](user, **details)
        else:
            message = MAILS[kind](user, **details) if user is not None else None
    if message is None:
        return
    db.session.commit()  # the link's token is stored before the mail can be opened
    mail.send(message)
