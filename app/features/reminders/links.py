"""The done and snooze links of a reminder's mail: signed, and each opens a page whose button
POSTs (a mail scanner that fetches the link changes nothing).

The link names one occurrence and the account's sign-in as it was when mailed
(User.proofs_changed_at), signed with SECRET_KEY (itsdangerous), and works
REMINDER_LINK_DAYS, until the account's sign-in changes: a recovery, a second step turned
on or changed ends every link mailed before it, as it ends every other way in (it may have
gone to an intruder's address). It signs nobody in; the note's title is shown only to its
owner signed in. Replaying it does nothing more: done is done once, and each occurrence
snoozes once.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import mail

SALT = "reminder-occurrence"


def signer():
    """Return the signer of occurrence links."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def proofs_stamp(user):
    """Return what a link remembers of the account's sign-in: when its proofs last changed."""
    changed = user.proofs_changed_at
    return round(changed.timestamp() * 1_000_000) if changed is not None else 0


def occurrence_link(occurrence, user):
    """Return the link (on PUBLIC_URL) to the page that marks `occurrence` done or snoozes
    it, bound to the sign-in of `user`, its account, as it is now."""
    token = signer().dumps([occurrence.id, proofs_stamp(user)])
    return mail.link("reminders.act", token=token)


def occurrence_in(token):
    """Return (the occurrence id, the account's proofs stamp) `token` carries, or None when
    it is forged, too old, or made before links were bound to the sign-in."""
    max_age = current_app.config["REMINDER_LINK_DAYS"] * 86400
    try:
        value = signer().loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(part, int) and not isinstance(part, bool) for part in value):
        return None
    return tuple(value)
