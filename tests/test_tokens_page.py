"""The page of personal access tokens (`/mypage/tokens`) as a person and an attacker use it.

Making a token asks for the password again (throttled like a sign-in) and shows the secret
once, on a page no cache keeps; every address of the account is told by mail. A token never
opens a page. A recovery (a reset or a "this was not me" link) revokes every token; deleting
the account deletes them.
"""

import logging
import threading
from functools import partial
from html import unescape

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.features.tokens.service import authenticate
from app.models import AccessToken, Note, User
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import (
    ANN,
    deliver,
    link_in,
    path_of,
    set_new_password,
    text_of,
)
from tests.signing_in import owner_resets
from tests.tokens import make_token as make
from tests.tokens import secret_shown

pytestmark = pytest.mark.usefixtures("no_jobs")


def secret_of(answer):
    """Return the secret the answer page shows (it must show one)."""
    assert answer.status_code == 200, answer.get_data(as_text=True)
    secret = secret_shown(answer)
    assert secret is not None
    return secret


def works(app, secret):
    with app.app_context():
        return authenticate(secret, "203.0.113.9") is not None


def token_ids(app):
    with app.app_context():
        return db.session.scalars(select(AccessToken.id).order_by(AccessToken.id)).all()


def test_a_token_is_made_with_the_password_and_its_secret_shown_once_never_kept(app, user):
    answer = make(user)
    secret = secret_of(answer)
    page = answer.get_data(as_text=True)
    assert "Copy it now: it will not be shown again." in page
    assert answer.headers["Cache-Control"] == "no-store"
    listed = user.get("/mypage/tokens")
    body = listed.get_data(as_text=True)
    assert "nightly export" in body and "read only" in body and "Never used" in body
    assert works(app, secret)
    assert secret not in body and secret[9:20] not in body
    assert listed.headers["Cache-Control"] == "no-store"
    with app.app_context():  # nor is it anywhere in the database
        dump = db.session.execute(text("SELECT access_token::text FROM access_token")).scalar()
    assert secret not in dump


def test_the_list_shows_the_last_use_in_the_readers_zone_with_the_address(app, user):
    secret = secret_of(make(user, scope="write"))
    with app.app_context():
        authenticate(secret, "198.51.100.23")
        db.session.execute(text("UPDATE access_token SET last_used_at = '2026-01-02 03:04:00+00'"))
        db.session.execute(text("UPDATE \"user\" SET time_zone = 'Asia/Seoul'"))
        db.session.commit()
    body = user.get("/mypage/tokens").get_data(as_text=True)
    assert "read and write" in body
    assert "Last used" in body and "198.51.100.23" in body
    assert "Jan 2, 2026, 12:04 PM" in body  # 03:04 UTC is noon in Seoul


def test_a_wrong_password_makes_no_token_and_is_throttled_like_a_sign_in(app, user):
    answer = make(user, password="not my password")
    assert answer.status_code == 400
    assert "That is not your current password." in answer.get_data(as_text=True)
    assert token_ids(app) == []
    limit = app.config["LOGIN_FAILURES_PER_EMAIL"]
    statuses = [make(user, password=f"guess {n}").status_code for n in range(limit)]
    assert statuses[-1] == 429
    refused = make(user)  # the right password, too late: no check is made
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert token_ids(app) == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Give the token a name"),
        ("name", "x" * 101, "at most 100 characters"),
        ("name", "a\x01b", "control characters"),
        ("scope", "admin", "may read or also write"),
        ("expires_days", "0", "from 1 to 365 days"),
        ("expires_days", "366", "from 1 to 365 days"),
        ("expires_days", "thirty", "from 1 to 365 days"),
        ("expires_days", "٣٠", "from 1 to 365 days"),  # Arabic-Indic digits are not ASCII
        ("expires_days", "9" * 400, "from 1 to 365 days"),
    ],
)
def test_wrong_fields_get_a_clear_400_and_no_token(app, user, field, value, message):
    fields = {"name": "ok", "scope": "read", "days": "30", field.replace("expires_", ""): value}
    answer = make(user, **fields)
    assert answer.status_code == 400
    assert message in unescape(answer.get_data(as_text=True))
    assert token_ids(app) == []


def test_past_the_hourly_limit_the_page_answers_429_with_retry_after(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "TOKENS_PER_HOUR", 2)
    make(user, "one")
    make(user, "two")
    refused = make(user, "three")
    assert refused.status_code == 429 and 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert "in the last hour" in refused.get_data(as_text=True)
    assert len(token_ids(app)) == 2


def test_past_the_live_limit_the_form_says_to_revoke_one(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "TOKENS_PER_ACCOUNT", 1)
    make(user, "one")
    refused = make(user, "two")
    assert refused.status_code == 400
    assert "the most one account may have. Revoke one first." in refused.get_data(as_text=True)


def test_revoking_ends_the_token_and_another_accounts_token_is_404(app, user, other_user):
    secret = secret_of(make(user))
    (token_id,) = token_ids(app)
    assert other_user.post(f"/mypage/tokens/{token_id}/revoke").status_code == 404
    assert user.post(f"/mypage/tokens/{token_id}/revoke", csrf=False).status_code == 400
    assert works(app, secret)
    answer = user.post(f"/mypage/tokens/{token_id}/revoke")
    assert answer.status_code == 302 and answer.headers["Location"] == "/mypage/tokens"
    assert not works(app, secret)
    assert "nightly export" not in user.get("/mypage/tokens").get_data(as_text=True)
    assert user.post("/mypage/tokens/99999999999999999999/revoke").status_code == 404


def test_a_token_never_opens_a_page(app, user):
    secret = secret_of(make(user, scope="write"))
    bearer = {"Authorization": f"Bearer {secret}"}
    stranger = app.test_client()
    for path in ("/", "/mypage", "/mypage/tokens", "/trash", "/search?q=x"):
        answer = stranger.get(path, headers=bearer)
        assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
    posted = stranger.post("/notes/new", data={"title": "t", "content": "c"}, headers=bearer)
    assert posted.status_code in (302, 400)
    with app.app_context():
        assert db.session.scalar(select(Note.id)) is None


def test_every_address_is_told_in_its_language_and_zone_with_a_link_to_the_page(
    app, verified, mail_server
):
    with app.app_context():
        db.session.execute(text("UPDATE \"user\" SET language = 'ko', time_zone = 'Asia/Seoul'"))
        db.session.commit()
    make(verified, name="노트북 백업", scope="write", days="7")
    deliver(app)
    (message,) = mail_server.to(ANN)
    body = text_of(message)
    assert message["Subject"] == "Memo 계정에 개인 액세스 토큰이 만들어졌어요"
    assert "노트북 백업" in body and "(서울, 대한민국)" in body
    assert "http://localhost/mypage/tokens" in body
    assert "memo_pat_" not in body
    link_in(message, "secure")  # "this was not me"


def test_a_this_was_not_me_link_of_the_notice_revokes_every_token(app, verified, mail_server):
    secrets = [secret_of(make(verified, f"t{n}")) for n in range(2)]
    deliver(app)
    undo = link_in(mail_server.to(ANN)[-1], "secure")
    assert set_new_password(Browser(app.test_client()), undo).status_code == 302
    assert [works(app, secret) for secret in secrets] == [False, False]
    assert verified.get("/mypage/tokens").status_code == 302  # the session ended too


def test_a_password_reset_by_mail_revokes_every_token(app, verified, mail_server):
    secret = secret_of(make(verified))
    assert owner_resets(app, mail_server).status_code == 302
    assert not works(app, secret)


def test_deleting_the_account_deletes_its_tokens(app, user):
    make(user)
    assert user.submit("/mypage/delete", {"password": PASSWORD}).status_code == 302
    assert token_ids(app) == []


def test_the_page_is_in_korean_for_a_korean_reader(app, user):
    with app.app_context():
        db.session.execute(text("UPDATE \"user\" SET language = 'ko'"))
        db.session.commit()
    page = user.get("/mypage/tokens").get_data(as_text=True)
    assert '<html lang="ko">' in page and "액세스 토큰" in page
    made = secret_of(make(user))
    assert made.startswith("memo_pat_")
    assert "다시 보여 주지 않아요" in make(user, "second").get_data(as_text=True)


def test_the_secret_is_in_no_log_line_no_job_and_no_mail(app, verified, mail_server, caplog):
    with caplog.at_level(logging.DEBUG):
        secret = secret_of(make(verified))
        works(app, secret)
        make(verified, password="a wrong one")
        deliver(app)
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert "/mypage/tokens" in logged  # the request lines were captured
    assert secret not in logged and secret[9:30] not in logged
    with app.app_context():
        jobs = db.session.execute(text("SELECT args::text FROM procrastinate_jobs")).scalars()
        assert [args for args in jobs if secret[9:30] in args] == []
    assert all(secret[9:30] not in message.as_string() for message in mail_server.to(ANN))


def at_once(*presses):
    """Run each function at the same moment; return their answers in order."""
    start, answers = threading.Barrier(len(presses)), {}

    def press(index, function):
        start.wait()
        answers[index] = function()

    threads = [threading.Thread(target=press, args=each) for each in enumerate(presses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return [answers.get(index) for index in range(len(presses))]


def test_a_token_asked_for_at_the_moment_of_the_recovery_never_outlasts_it(
    app, verified, mail_server
):
    new = {"new_password": "the owner's own again", "new_password_confirm": "the owner's own again"}
    for round_ in range(4):
        intruder = Browser(app.test_client())
        assert intruder.login(ANN, PASSWORD).status_code == 302
        secret_of(make(intruder, f"first {round_}"))
        deliver(app)
        undo = path_of(link_in(mail_server.to(ANN)[-1], "secure"))
        owner = Browser(app.test_client())
        owner.get(undo)
        intruder.get("/mypage/tokens")
        form = {"name": f"second {round_}", "scope": "write", "expires_days": "30"}
        recovered, asked = at_once(
            partial(owner.post, undo, new),
            partial(intruder.post, "/mypage/tokens", {**form, "password": PASSWORD}),
        )
        assert recovered.status_code == 302
        second = secret_shown(asked)
        assert second is None or not works(app, second), f"round {round_}: it outlasted"
        with app.app_context():  # the next round's intruder knows the password again
            user = db.session.scalar(select(User))
            user.set_password(PASSWORD)
            db.session.commit()
