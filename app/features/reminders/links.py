"""The done and snooze links of a reminder's mail: signed, and each opens a page whose button
POSTs (a mail scanner that fetches the link changes nothing).

The link names one occurrence, signed with SECRET_KEY (itsdangerous), and works
REMINDER_LINK_DAYS. It signs nobody in and reads nothing but that occurrence's note title;
replaying it does nothing more: done is done once, and each occurrence snoozes once.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import mail

SALT = "reminder-occurrence"


def signer():
    """Return the signer of occurrence links."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def occurrence_link(occurrence_id):
    """Return the link (on PUBLIC_URL) to the page that marks occurrence done or snoozes it."""
    return mail.link("reminders.act", token=signer().dumps(occurrence_id))


def occurrence_in(token):
    """Return the occurrence id `token` carries, or None when it is forged or too old."""
    max_age = current_app.config["REMINDER_LINK_DAYS"] * 86400
    try:
        value = signer().loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
