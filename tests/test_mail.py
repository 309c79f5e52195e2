"""Sending mail: the message's headers, no header injection, and an SMTP server in trouble.

A server that is down or answers 4xx gets the mail later (the job retries with backoff); a
permanent 5xx is not retried, and the log names no address. The local inbox exists in
development only.
"""

import logging

import pytest
from sqlalchemy import text

from app import create_app, mail
from app.extensions import db
from devenv.mailserver import MailServer
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import deliver, link_in, mail_jobs, text_of
from tests.workers import wait_for

ANN = "ann@example.com"


pytestmark = pytest.mark.usefixtures("no_jobs")


def sign_up(app, email=ANN, nickname="ann"):
    form = {"email": email, "nickname": nickname, "password": PASSWORD}
    return Browser(app.test_client()).submit("/auth/signup", {**form, "password_confirm": PASSWORD})


@pytest.mark.parametrize(
    "address", ["ann@example.com\r\nBcc: eve@example.com", "ann@example.com, eve@example.com"]
)
def test_an_address_cannot_add_a_header_or_a_recipient(app, address):
    with app.test_request_context(), pytest.raises(ValueError):
        mail.compose(address, "Hello", "account_deleted", nickname="ann")


def test_a_nickname_stays_in_the_body(app):
    nickname = "ann\r\nBcc: eve@example.com"
    with app.test_request_context():
        message = mail.compose(ANN, "Hello", "account_deleted", nickname=nickname)
    assert message["Bcc"] is None
    assert "eve@example.com" in text_of(message)
    assert "&lt;" not in text_of(message)


def test_a_permanent_refusal_is_not_retried_and_logged_without_the_address(
    app, mail_server, caplog
):
    mail_server.handler.refused.add(ANN)
    try:
        sign_up(app)
        with caplog.at_level(logging.INFO, logger="memo.jobs"):
            deliver(app)
    finally:
        mail_server.handler.refused.clear()
    assert mail_jobs(app) == [("failed", 1)]
    (line,) = [r for r in caplog.records if getattr(r, "job", "") == "send_account_mail"]
    assert "SMTP 550" in line.outcome and "PermanentMailError" in line.outcome
    assert ANN not in line.outcome and "<address>" in line.outcome
    assert mail_server.messages() == []


def test_a_temporary_refusal_is_retried_and_delivered(app, mail_server):
    mail_server.handler.deferring = True
    try:
        sign_up(app)
        deliver(app)
        assert mail_jobs(app) == [("todo", 1)], "scheduled again, with backoff"
        assert mail_server.messages() == []
    finally:
        mail_server.handler.deferring = False
    with app.app_context():  # the backoff's two seconds pass at once
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()
    deliver(app)
    assert mail_jobs(app) == []  # succeeded jobs are deleted
    (message,) = mail_server.to(ANN)
    assert "/auth/verify/" in link_in(message)


def test_mail_due_while_the_server_is_down_arrives_once_it_is_back(app, workers, tmp_path, caplog):
    server = MailServer(tmp_path / "mail").start()
    server.stop()
    worker = workers.start(SMTP_URL=server.url)
    sign_up(app)
    wait_for(lambda: "retry later: TemporaryMailError" in worker.log(), message="a failed try")
    server.start()
    try:
        wait_for(lambda: server.to(ANN), timeout=30, message="the mail delivered")
        wait_for(lambda: not mail_jobs(app), message="the job done")
        assert len(server.to(ANN)) == 1
    finally:
        server.stop()


def test_the_local_inbox_shows_the_mail_in_development_only(
    app, postgres, mail_server, monkeypatch
):
    sign_up(app)
    deliver(app)
    monkeypatch.setenv("LOCAL_MAIL_DIR", str(mail_server.folder))
    monkeypatch.setenv("DATABASE_URL", postgres.main_url)
    development = create_app("config.DevelopmentConfig")
    inbox = development.test_client().get("/dev/inbox").get_data(as_text=True)
    assert "Confirm your email address for Memo" in inbox
    (name,) = [path.name for path in mail_server.folder.glob("*.eml")]
    page = development.test_client().get(f"/dev/inbox/{name}").get_data(as_text=True)
    assert '<a href="http://localhost/auth/verify/' in page
    elsewhere = development.test_client().get(
        "/dev/inbox", environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert elsewhere.status_code == 404
    assert app.test_client().get("/dev/inbox").status_code == 404
    with development.app_context():
        db.engine.dispose()
