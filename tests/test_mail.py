"""Sending mail: the message's headers, no header injection, and an SMTP server in trouble.

A server that is down or answers 4xx gets the mail later (the job retries with backoff); a
permanent 5xx is not retried, and the log names no address. The local inbox exists in
development only.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app import create_app, mail
from app.accounts.tasks import MAIL_ATTEMPTS, defer_mail, send_account_mail
from app.extensions import db
from app.mail import TemporaryMailError
from app.worker import runtime
from devenv import pictures
from devenv.mailserver import MailServer
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import deliver, link_in, mail_jobs, text_of
from tests.workers import wait_for

ANN = "ann@example.com"


@dataclass
class Job:
    """What a retry strategy reads of a job: how many times it ran before."""

    attempts: int


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


def test_a_hanging_mail_provider_stalls_no_other_job(app, workers, tmp_path):
    server = MailServer(tmp_path / "mail").start()
    server.handler.hanging = True
    try:
        workers.start(SMTP_URL=server.url)
        for number in range(6):  # six verification mails, each try waiting the 10 s timeout
            sign_up(app, f"new{number}@example.com", f"new{number}")
        wait_for(lambda: ("doing", 0) in mail_jobs(app), message="a mail stuck on the server")
        owner = Browser(app.test_client())
        owner.login(f"new{0}@example.com", PASSWORD)
        owner.upload_photo(pictures.jpeg())
        wait_for(
            lambda: owner.get("/mypage/photo/status").get_json()["finished"],
            timeout=6,
            message="the photo made while the mail provider hangs",
        )
        assert all(status != "succeeded" for status, _ in mail_jobs(app))
    finally:
        server.handler.hanging = False
        server.stop()


def wait_before_try(strategy, attempts, error):
    """Return the seconds a job that ran `attempts` times waits before its next try, or None."""
    now = datetime.now(UTC)
    decision = strategy.get_retry_decision(exception=error, job=Job(attempts))
    return None if decision is None else round((decision.retry_at - now).total_seconds())


def test_mail_retries_wait_longer_each_time_but_never_more_than_15_minutes(app):
    strategy = runtime.worker_queue().tasks[send_account_mail.name].retry_strategy
    error = TemporaryMailError("451")
    seconds = [wait_before_try(strategy, attempts, error) for attempts in range(MAIL_ATTEMPTS)]
    assert seconds[:4] == [2, 4, 8, 16] and max(seconds) == 900
    assert 1.5 * 3600 < sum(seconds) < 2.5 * 3600, "about two hours of tries"
    assert wait_before_try(strategy, MAIL_ATTEMPTS, error) is None, "then it gives up"
    assert wait_before_try(strategy, 0, ValueError()) is None, "other errors are not retried"


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


def test_a_mail_job_that_fails_for_good_logs_no_address_name_or_hash(app, workers, tmp_path):
    server = MailServer(tmp_path / "mail").start()
    server.handler.refused.add(ANN)
    password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0c2FsdA$aGFzaGhhc2hoYXNo"
    try:
        worker = workers.start(SMTP_URL=server.url)
        sign_up(app)  # its verification mail is refused for good too
        with app.test_request_context():
            user_id = db.session.scalar(text('SELECT id FROM "user"'))
            defer_mail("account_deleted", address=ANN, nickname="Annabel Secretname")
            # As a release before 0018 queued it: the second sign-up's password hash.
            defer_mail("signup_notice", user_id, new_password_hash=password_hash)
            db.session.commit()
        wait_for(
            lambda: [status for status, _ in mail_jobs(app)] == ["failed"] * 3,
            message="three mail jobs failed for good",
        )
        log = worker.log()
    finally:
        server.stop()
    assert "ended with status: Error" in log and "send_account_mail" in log
    assert "address=…" in log, "the arguments' names stay"
    for secret in (ANN, "Secretname", password_hash, "argon2"):
        assert secret not in log


def test_the_certificate_authorities_are_loaded_once_a_process_and_not_for_plain_smtp(
    app, mail_server, monkeypatch
):
    loaded = []
    monkeypatch.setattr(mail.ssl, "create_default_context", lambda: loaded.append(1) or object())
    mail.tls_context.cache_clear()
    settings = app.config["SMTP"]
    with app.app_context():
        with mail.connect(settings) as smtp:  # the local server speaks plain SMTP
            assert smtp.noop()[0] == 250
        assert loaded == []
        for _ in range(2):  # it offers no STARTTLS: refused after the context is made
            with pytest.raises(smtplib.SMTPNotSupportedError):
                mail.connect({**settings, "security": "starttls"})
    assert loaded == [1]
    mail.tls_context.cache_clear()
