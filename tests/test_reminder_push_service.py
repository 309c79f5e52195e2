"""Memo's pushes read by a push service written by others: web-push-testing (npm, the
web-push-libs' test server; devenv/web_push_testing.py) makes the subscription a browser
would, checks each push's VAPID JWT against the key it was made for, and decrypts its body
with its own keys and its own aes128gcm code. The tests' own decoder (tests/pushes.py,
tests/test_reminder_push.py) reads the same pushes; this is the second, independent reader.

web-push-testing serves plain HTTP only, and Memo sends to https:// push services only: a
TLS front on 127.0.0.1 (the tests' own certificate authority) passes each push on to it as
received, headers and body."""

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import PushSubscription, ReminderOccurrence
from devenv import web_push_testing
from devenv.web_push_testing import WebPushTesting
from tests.mailbox import PUBLIC_URL
from tests.pushes import TLSFront, vapid_settings
from tests.reminding import come_due, deliver, note_with_reminder, sweep
from tests.webservers import CertificateAuthority

pytestmark = pytest.mark.skipif(
    bool(web_push_testing.missing()),
    reason=f"web-push-testing cannot run: {web_push_testing.missing()}",
)


@pytest.fixture
def push_service(tmp_path, app, monkeypatch):
    """web-push-testing behind an HTTPS front for `localhost` that the worker trusts."""
    authority = CertificateAuthority(tmp_path)
    monkeypatch.setitem(app.config, "PUSH_CA_FILE", str(authority.ca_file))
    service = WebPushTesting().start()
    try:
        with TLSFront(authority.server_context("localhost"), service.url) as front:
            yield service, front
    finally:
        service.stop()


def subscribed(browser, vapid, push_service):
    """Subscribe at web-push-testing for Memo's key, then give Memo that subscription as the
    page's script does (the endpoint through the HTTPS front); return its client hash."""
    service, front = push_service
    subscription = service.subscribe(vapid["public_key"])
    answer = browser.post(
        "/reminders/push",
        {"endpoint": front.endpoint(subscription["endpoint"]), **subscription["keys"]},
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return subscription["clientHash"]


def received(push_service, client_hash):
    """Return each payload web-push-testing decrypted for the subscription, as JSON."""
    service, _ = push_service
    return [json.loads(text) for text in service.notifications(client_hash)]


def test_web_push_testing_decrypts_a_korean_accounts_reminder_as_its_user_reads_it(
    app, verified, vapid, push_service
):
    verified.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    note_id = note_with_reminder(verified, "치과 예약")
    client_hash = subscribed(verified, vapid, push_service)
    come_due(app)
    assert sweep(app) == 1
    deliver(app)
    [payload] = received(push_service, client_hash)
    assert payload["title"] == "리마인더: 치과 예약"
    assert payload["body"] == "메모에서 열어 보세요."
    assert payload["lang"] == "ko"
    assert payload["url"] == f"{PUBLIC_URL}/notes/{note_id}"


def test_web_push_testing_decrypts_a_private_reminder_with_the_generic_line_only(
    app, verified, vapid, push_service
):
    note_with_reminder(verified, "Secret plan", private="y")
    client_hash = subscribed(verified, vapid, push_service)
    come_due(app)
    sweep(app)
    deliver(app)
    [payload] = received(push_service, client_hash)
    assert payload["title"] == "Reminder: a note of yours"
    assert payload["body"] == "Open the note in Memo."
    assert "Secret plan" not in json.dumps(payload)


def test_a_subscription_web_push_testing_expired_is_deleted_by_its_410(
    app, verified, vapid, push_service
):
    service, _ = push_service
    note_with_reminder(verified)
    client_hash = subscribed(verified, vapid, push_service)
    service.expire(client_hash)
    come_due(app)
    sweep(app)
    deliver(app)
    assert received(push_service, client_hash) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 0


def test_web_push_testing_refuses_a_push_signed_for_another_key(app, verified, vapid, push_service):
    """The service is no rubber stamp: a subscription made for another application server
    key takes nothing from Memo's key (400), and the worker keeps the push to try again."""
    service, front = push_service
    other_key = vapid_settings()[0]["public_key"]
    subscription = service.subscribe(other_key)
    endpoint = front.endpoint(subscription["endpoint"])
    verified.post("/reminders/push", {"endpoint": endpoint, **subscription["keys"]})
    note_with_reminder(verified)
    come_due(app)
    sweep(app)
    deliver(app)
    assert received(push_service, subscription["clientHash"]) == []
    assert [answer for answer in front.answers if "Invalid Crypto-Key header" in answer]
    with app.app_context():
        assert db.session.scalars(select(ReminderOccurrence.push_outcome)).all() == ["queued"]
