"""Every mail Memo sends reads wholly in its account's language: no English in a Korean one.

Each kind of mail is composed for a Korean account (as the worker does, in the account's
language) and both parts are read as a person reads them, links and addresses left out.
"""

import re

import pytest
from flask_babel import force_locale

from app.accounts import mails
from app.extensions import db
from app.features.tokens.service import make_token
from app.features.webhooks.service import make_webhook
from app.models import User, utcnow
from tests.mailbox import html_of, text_of
from tests.reading import latin_words

NICKNAME = "김민지"
ADDRESS = "min@example.com"
# Links and addresses are not sentences: they are left out before reading.
LINKS_AND_ADDRESSES = re.compile(r"https?://\S+|[^\s<>()]+@[^\s<>()]+")


def korean_account(verified=True):
    user = User(
        email=ADDRESS,
        nickname=NICKNAME,
        language="ko",
        time_zone="Asia/Seoul",
        email_verified_at=utcnow() if verified else None,
    )
    user.set_password("correct horse 9")
    db.session.add(user)
    db.session.flush()
    return user


# Each kind of mail: (whether the account is verified, the job's details).
CASES = {
    "verify": (False, {}),
    "signup_notice": (True, {}),
    "signup_notice_unconfirmed": (False, {}),
    "reset": (True, {}),
    "password_changed": (
        True,
        {
            "ended": {
                "sessions": 2,
                "tokens": ["백업"],
                "passkeys": ["휴대폰"],
                "app": True,
                "paused_links": 1,
                "paused_hooks": 2,
                "drop_request": True,
                "moves": 1,
            }
        },
    ),
    "email_change": (True, {"new_email": "min.new@example.com"}),
    "email_change_requested": (True, {}),
    "email_in_use": (True, {}),
    "email_changed": (True, {"old_email": "min.old@example.com"}),
    "account_secured": (True, {"actor": ADDRESS, "moved_back": True}),
    "account_deleted": (None, {"address": ADDRESS, "nickname": NICKNAME}),
    "token_made": (True, {"token_id": None}),  # a token the account makes in the test
    "grant_made": (True, {"what": "share_link", "name": "회의", "at": "2026-11-25T09:30:00+00:00"}),
    "two_step_on": (True, {"at": "2026-11-25T09:30:00+00:00"}),
    "two_step_off": (True, {"at": "2026-11-25T09:30:00+00:00"}),
    "recovery_codes_made": (True, {"at": "2026-11-25T09:30:00+00:00"}),
    "reading_changed": (True, {"at": "2026-11-25T09:30:00+00:00"}),
    "passkey_added": (True, {"name": "휴대폰", "at": "2026-11-25T09:30:00+00:00"}),
    "passkey_removed": (True, {"name": "휴대폰", "at": "2026-11-25T09:30:00+00:00"}),
    "second_step_recovery_asked": (
        True,
        {
            "at": "2026-11-25T09:30:00+00:00",
            "ends": "2026-12-02T09:30:00+00:00",
            "lapses": "2026-12-09T09:30:00+00:00",
        },
    ),
    "second_step_recovered": (True, {"at": "2026-12-02T09:30:00+00:00"}),
    "webhook_disabled": (True, {"webhook_id": None}),  # a webhook the account makes in the test
    "webhook_full": (True, {"webhook_id": None}),
}


def test_every_kind_of_mail_has_a_case():
    kinds = {kind.removesuffix("_unconfirmed") for kind in CASES}
    assert kinds == set(mails.MAILS) | set(mails.ADDRESSED_MAILS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_korean_mail_has_no_english_sentence(app, kind):
    verified, details = CASES[kind]
    name = kind.removesuffix("_unconfirmed")
    with app.app_context(), force_locale("ko"):
        user = korean_account(verified) if verified is not None else None
        compose = mails.ADDRESSED_MAILS.get(name) or mails.MAILS[name]
        if "token_id" in details:
            details = {"token_id": make_token(user, "백업", "write", 30)[0].id}
        if "webhook_id" in details:
            hook, _ = make_webhook(user.id, "https://hooks.example.com/memo", ["note.created"])
            details = {"webhook_id": hook.id}
        message = compose(user, **details)
        db.session.rollback()
    assert message is not None
    for part in (message["Subject"], text_of(message), html_of(message)):
        readable = LINKS_AND_ADDRESSES.sub(" ", part)
        assert latin_words(readable, NICKNAME) == [], f"English in the Korean {kind} mail"
    assert "님, 안녕하세요" in text_of(message)
