"""Each recipient of a notice reads the text of its own role (issue #61, 1): after a move, the
address the account now uses is told it signs in there and gets the mail, and the address it
left that the mail no longer comes there. Every notice is composed for both roles."""

import pytest
from flask_babel import force_locale

from app.accounts import mails
from app.extensions import db
from app.models import AddressHold, User, utcnow
from tests.mailbox import text_of

LEFT, NOW = "ann@old.example", "ann@new.example"
AT = "2026-11-25T09:30:00+00:00"
# Each notice sent to every address with standing, and its job's details.
NOTICES = {
    "password_changed": {},
    "email_change_requested": {},
    "email_changed": {},
    "account_secured": {"actor": LEFT, "moved_back": False},
    "token_made": {},
    "two_step_on": {"at": AT},
    "two_step_off": {"at": AT},
    "recovery_codes_made": {"at": AT},
    "reading_changed": {"at": AT},
    "passkey_added": {"name": "Phone", "at": AT},
    "passkey_removed": {"name": "Phone", "at": AT},
    "second_step_recovery_asked": {"at": AT, "ends": AT, "lapses": AT},
    "second_step_recovered": {"at": AT},
}
NO_LONGER_HERE = "no longer comes here"


def moved_account():
    """An account that moved from LEFT to NOW just now (both have standing)."""
    user = User(email=LEFT, nickname="ann", language="en", email_verified_at=utcnow())
    user.set_password("correct horse 9")
    db.session.add(user)
    db.session.flush()
    user.email = NOW
    AddressHold.leave(user, LEFT, True, NOW)
    return user


@pytest.mark.parametrize("role", ["current", "left"])
@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_every_notice_reads_right_for_each_recipient_role(app, kind, role):
    with app.app_context(), force_locale("en"):
        user = moved_account()
        to = NOW if role == "current" else LEFT
        message = mails.MAILS[kind](user, to=to, **NOTICES[kind])
        db.session.rollback()
    assert message is not None and message["To"] == to
    text = text_of(message)
    if role == "current":
        assert NO_LONGER_HERE not in text, f"{kind} tells the account's own address it left"
    if kind == "email_changed":
        expected = "comes here from now on" if role == "current" else NO_LONGER_HERE
        assert expected in text
