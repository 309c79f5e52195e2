"""Reminders by Web Push: a browser (played by the test: its P-256 keys and auth secret)
subscribes from the note page, the occurrence is pushed once to a push service on 127.0.0.1
(HTTPS), which gets a body the browser can decrypt and a VAPID JWT for its own origin; a 410
deletes the subscription; every input has its budget; unset keys offer nothing."""

import json
import time

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.features.reminders import pushing
from app.features.reminders.firing import TemporaryPushError
from app.models import (
    TITLE_MAX_LENGTH,
    LoginSession,
    PushSubscription,
    ReminderOccurrence,
    User,
)
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import PUBLIC_URL
from tests.phones import turn_on
from tests.pushes import (
    PushBrowser,
    PushService,
    SilentService,
    b64,
    vapid_claims,
)
from tests.reminding import come_due, deliver, note_with_reminder, reminder_mails, sweep
from tests.signing_in import recovered
from tests.webservers import CertificateAuthority


@pytest.fixture
def authority(tmp_path, app, monkeypatch):
    """The tests' certificate authority, which the worker trusts for push services."""
    made = CertificateAuthority(tmp_path)
    monkeypatch.setitem(app.config, "PUSH_CA_FILE", str(made.ca_file))
    return made


@pytest.fixture
def service(authority):
    """A push service on 127.0.0.1, HTTPS for `localhost`, taking every push (201)."""
    with PushService(authority.server_context("localhost")) as running:
        yield running


def subscribe(user, browser, endpoint):
    return user.post("/reminders/push", browser.subscription(endpoint))


def subscriptions(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PushSubscription))


def push_outcomes(app):
    with app.app_context():
        return db.session.scalars(
            select(ReminderOccurrence.push_outcome).order_by(ReminderOccurrence.id)
        ).all()


def test_a_reminder_is_pushed_once_encrypted_for_the_browser_and_signed_for_its_service(
    app, verified, vapid, service, mail_server
):
    browser = PushBrowser()
    note_id = note_with_reminder(verified, "Dentist")
    answer = subscribe(verified, browser, service.endpoint)
    assert answer.status_code == 201
    assert answer.json["browsers"] == 1
    come_due(app)
    assert sweep(app) == 1
    deliver(app)
    sweep(app)  # a second sweep and run fire nothing again
    deliver(app)
    [push] = service.pushes
    assert browser.read(push["body"]) == {
        "title": "Reminder: Dentist",
        "body": "Open the note in Memo.",
        "url": f"{PUBLIC_URL}/notes/{note_id}",
        "lang": "en",
        "tag": push_tag(app),
    }
    headers = push["headers"]
    assert headers["Content-Encoding"] == "aes128gcm"
    assert int(headers["TTL"]) == app.config["PUSH_TTL_SECONDS"]
    claims = vapid_claims(headers["Authorization"], vapid["public_key"])
    assert claims["aud"] == service.origin
    assert claims["sub"] == "mailto:memo@localhost"
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert len(reminder_mails(mail_server)) == 1  # mail stays: push comes beside it
    assert push_outcomes(app) == ["sent"]


def push_tag(app):
    with app.app_context():
        return f"reminder-{db.session.scalar(select(ReminderOccurrence.id))}"


def test_a_private_reminder_is_pushed_with_the_generic_line_in_the_accounts_language(
    app, verified, vapid, service
):
    browser = PushBrowser()
    verified.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    note_with_reminder(verified, "Secret plan", private="y")
    subscribe(verified, browser, service.endpoint)
    come_due(app)
    sweep(app)
    deliver(app)
    [push] = service.pushes
    payload = browser.read(push["body"])
    assert payload["lang"] == "ko"
    assert "Secret plan" not in str(payload)
    assert payload["title"] == "리마인더: 내 메모"


def test_a_410_from_the_push_service_deletes_the_subscription(app, verified, vapid, service):
    service.answer(410)
    note_with_reminder(verified)
    subscribe(verified, PushBrowser(), service.endpoint)
    come_due(app)
    sweep(app)
    deliver(app)
    assert len(service.pushes) == 1
    assert subscriptions(app) == 0
    assert push_outcomes(app) == ["void"]


def test_a_service_that_fails_is_tried_again_and_only_it(app, verified, vapid, authority):
    first, second = PushBrowser(), PushBrowser()
    context = authority.server_context("localhost")
    with PushService(context) as taking, PushService(context, status=503) as failing:
        note_with_reminder(verified)
        subscribe(verified, first, taking.endpoint)
        subscribe(verified, second, failing.endpoint)
        come_due(app)
        sweep(app)
        occurrence_id = only_occurrence(app)
        with app.app_context(), pytest.raises(TemporaryPushError):
            pushing.deliver_push(occurrence_id)
        failing.answer(201)
        with app.app_context():
            pushing.deliver_push(occurrence_id)
        assert (len(taking.pushes), len(failing.pushes)) == (1, 2)
        assert second.read(failing.pushes[-1]["body"])["title"] == "Reminder: Dentist"
    assert push_outcomes(app) == ["sent"]
    assert subscriptions(app) == 2


def test_services_that_take_the_connection_and_never_answer_hold_a_try_one_deadline(
    app, verified, vapid, authority, monkeypatch
):
    deadline = 2.0  # 10 s in production: the test's time stays short
    monkeypatch.setitem(app.config, "PUSH_DEADLINE_SECONDS", deadline)
    most = app.config["PUSH_SUBSCRIPTIONS_PER_USER"]
    with SilentService(authority.server_context("localhost")) as silent:
        note_with_reminder(verified)
        for number in range(most):
            assert subscribe(verified, PushBrowser(), silent.endpoint(number)).status_code == 201
        come_due(app)
        sweep(app)
        occurrence_id = only_occurrence(app)
        started = time.monotonic()
        with app.app_context(), pytest.raises(TemporaryPushError, match=f"{most} of {most}"):
            pushing.deliver_push(occurrence_id)
        took = time.monotonic() - started
        assert len(silent.held) == most  # each browser's service was reached and held it
    # About one deadline for the ten (they go at once; the rest is the machine's load), where
    # one after another took ten of them.
    assert deadline <= took < 3 * deadline, took
    assert push_outcomes(app) == ["queued"] and subscriptions(app) == most


def test_a_push_waits_in_its_owners_lane_of_the_queue(app, verified, vapid, service):
    note_with_reminder(verified)
    subscribe(verified, PushBrowser(), service.endpoint)
    come_due(app)
    sweep(app)
    with app.app_context():
        queued = db.session.execute(
            text(
                "SELECT queue_name, lock FROM procrastinate_jobs WHERE task_name = 'push_reminder'"
            )
        ).all()
        user_id = db.session.scalar(select(User.id).where(User.email == "ann@example.com"))
    assert [tuple(row) for row in queued] == [("default", f"user:{user_id}")]


def only_occurrence(app):
    with app.app_context():
        return db.session.scalar(select(ReminderOccurrence.id))


def test_an_endpoint_that_turns_out_to_be_inside_the_network_is_deleted_unsent(
    app, verified, vapid, service, monkeypatch
):
    note_with_reminder(verified)
    subscribe(verified, PushBrowser(), service.endpoint)
    # As in production: localhost resolves to 127.0.0.1, which the worker never connects to.
    monkeypatch.setitem(app.config, "FETCH_ALLOW_LOOPBACK", False)
    come_due(app)
    sweep(app)
    deliver(app)
    assert service.pushes == []
    assert subscriptions(app) == 0


def test_pushes_an_hour_stop_at_the_accounts_budget(app, verified, vapid, service, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_PUSHES_PER_HOUR", 2)
    for title in ("One", "Two", "Three"):
        note_with_reminder(verified, title)
    subscribe(verified, PushBrowser(), service.endpoint)
    come_due(app)
    assert sweep(app) == 3
    deliver(app)
    assert len(service.pushes) == 2
    assert sorted(push_outcomes(app)) == ["held", "sent", "sent"]


@pytest.mark.parametrize("most", [3072, 400])
def test_the_payload_stays_within_its_budget_with_the_longest_title(
    app, verified, vapid, service, monkeypatch, most
):
    monkeypatch.setitem(app.config, "PUSH_PAYLOAD_MAX_BYTES", most)
    browser = PushBrowser()
    longest = "😀" * TITLE_MAX_LENGTH  # 4 bytes a character in UTF-8
    note_with_reminder(verified, longest)
    subscribe(verified, browser, service.endpoint)
    come_due(app)
    sweep(app)
    deliver(app)
    [push] = service.pushes
    plain = browser.read(push["body"])
    assert len(pushing_bytes(plain)) <= most
    if most < 1000:
        assert plain["title"].startswith("Reminder: 😀") and plain["title"].endswith("…")
    else:
        assert plain["title"] == f"Reminder: {longest}"


def pushing_bytes(payload):
    """Return the payload's bytes as the app writes them (compact UTF-8 JSON)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_account_subscribes_at_most_its_budget_of_browsers(app, verified, vapid, service):
    most = app.config["PUSH_SUBSCRIPTIONS_PER_USER"]
    for number in range(most):
        endpoint = f"{service.endpoint}/{number}"
        assert subscribe(verified, PushBrowser(), endpoint).status_code == 201
    refused = subscribe(verified, PushBrowser(), f"{service.endpoint}/one-more")
    assert refused.status_code == 400
    assert "at most" in refused.json["error"]
    # The same browser again renews its row: no budget spent.
    browser = PushBrowser()
    assert subscribe(verified, browser, f"{service.endpoint}/0").status_code == 201
    assert subscriptions(app) == most


GOOD = PushBrowser().subscription("https://push.example.com/send/1")
NOT_ON_CURVE = b64(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"endpoint": "http://push.example.com/send/1"}, "must start with https://"),
        ({"endpoint": "https://push.example.com/" + "a" * 1024}, "longer than 1024"),
        ({"endpoint": "https://10.0.0.7/send"}, "a private address"),
        ({"endpoint": "https://169.254.169.254/latest"}, "a link-local address"),
        ({"endpoint": "https://[::ffff:10.0.0.1]/send"}, "carries an IPv4 address"),
        ({"endpoint": "https://user:pw@push.example.com/send"}, "user name or password"),
        ({"endpoint": "https://push.example.com/\x00"}, "control characters"),
        ({"endpoint": ""}, "no push subscription"),
        ({"p256dh": GOOD["p256dh"][:-4]}, "not a P-256 public key"),
        ({"p256dh": NOT_ON_CURVE}, "not a P-256 public key"),
        ({"p256dh": "not base64 at all!"}, "not a P-256 public key"),
        ({"p256dh": GOOD["p256dh"] + "\x00"}, "not a P-256 public key"),
        ({"auth": b64(b"x" * 15)}, "not 16 bytes"),
        ({"auth": "é" * 22}, "not 16 bytes"),
    ],
)
def test_a_subscription_memo_would_not_use_is_refused_with_why(app, verified, vapid, fields, said):
    answer = verified.post("/reminders/push", {**GOOD, **fields}, headers=JSON)
    assert answer.status_code == 400
    assert said in answer.json["error"]
    assert subscriptions(app) == 0


JSON = {"Accept": "application/json"}


def test_without_vapid_keys_push_is_neither_offered_nor_taken(app, verified):
    note_id = note_with_reminder(verified)
    page = verified.get(f"/notes/{note_id}").get_data(as_text=True)
    assert 'id="push"' not in page
    answer = verified.post("/reminders/push", GOOD, headers=JSON)
    assert answer.status_code == 404
    come_due(app)
    sweep(app)
    with app.app_context():
        jobs = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'push_reminder'"
        assert db.session.scalar(text(jobs)) == 0


def test_the_note_page_offers_push_with_the_public_key(app, verified, vapid):
    note_id = note_with_reminder(verified)
    page = verified.get(f"/notes/{note_id}").get_data(as_text=True)
    assert f'data-key="{vapid["public_key"]}"' in page
    assert "Notify me on this device" in page
    assert "iOS 16.4 or later" in page


def test_turning_off_ends_this_browser_and_every_browser(app, verified, vapid, service):
    one, other = PushBrowser(), PushBrowser()
    subscribe(verified, one, f"{service.endpoint}/one")
    subscribe(verified, other, f"{service.endpoint}/other")
    answer = verified.post(
        "/reminders/push/delete", {"endpoint": f"{service.endpoint}/one"}, headers=JSON
    )
    assert answer.json["browsers"] == 1
    subscribe(verified, one, f"{service.endpoint}/one")
    answer = verified.post("/reminders/push/delete-all", {"next": "/reminders"})
    assert answer.headers["Location"] == "/reminders"
    assert subscriptions(app) == 0


@pytest.mark.parametrize(
    "endpoint", ["https://push.example.com/\x00", "https://push.example.com/" + "a" * 5000, ""]
)
def test_turning_off_a_browser_memo_could_not_have_is_refused_not_an_error(app, verified, endpoint):
    answer = verified.post("/reminders/push/delete", {"endpoint": endpoint}, headers=JSON)
    assert answer.status_code == 400
    assert answer.json["error"]


def test_another_account_cannot_end_anns_browser(app, verified, other_user, vapid, service):
    subscribe(verified, PushBrowser(), service.endpoint)
    other_user.post("/reminders/push/delete", {"endpoint": service.endpoint}, headers=JSON)
    other_user.post("/reminders/push/delete-all")
    assert subscriptions(app) == 1


def test_signing_out_ends_the_push_its_session_turned_on(app, verified, vapid, service):
    subscribe(verified, PushBrowser(), service.endpoint)
    verified.logout()
    assert subscriptions(app) == 0


def test_deleting_the_account_deletes_its_subscriptions(app, verified, vapid, service):
    subscribe(verified, PushBrowser(), service.endpoint)
    assert verified.post("/mypage/delete", {"password": PASSWORD}).status_code == 302
    assert subscriptions(app) == 0


def test_an_expired_session_lets_go_of_its_push_without_ending_it(app, verified, vapid, service):
    subscribe(verified, PushBrowser(), service.endpoint)
    with app.app_context():
        db.session.execute(text("UPDATE login_session SET created_at = now() - interval '60 days'"))
        LoginSession.delete_expired(app.config["LOGIN_SESSION_LIFETIME"])
        db.session.commit()
        kept = db.session.scalar(select(PushSubscription.login_session_id))
    assert subscriptions(app) == 1 and kept is None


def test_the_first_second_step_ends_the_other_sessions_browsers_and_a_recovery_every_one(
    app, verified, vapid, service
):
    other_browser = Browser(app.test_client())
    assert other_browser.login().status_code == 302
    subscribe(verified, PushBrowser(), f"{service.endpoint}/mine")
    subscribe(other_browser, PushBrowser(), f"{service.endpoint}/theirs")
    turn_on(verified)
    with app.app_context():
        endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
        assert endpoints == [f"{service.endpoint}/mine"]
        ann = db.session.scalar(select(User).where(User.email == "ann@example.com"))
        ended = recovered(ann)
        db.session.commit()
    assert ended.as_details()["pushes"] == 1
    assert subscriptions(app) == 0
