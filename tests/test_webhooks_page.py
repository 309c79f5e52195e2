"""The webhooks page on My page: a webhook made with the form (its secret shown once, never
kept by a cache), a test event sent and verified, the last deliveries with their status and
time, sent again with the same id, ended; a reminder that goes off; a recovery pauses a
webhook not made through a second step until its owner keeps it."""

import re

from flask import render_template
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import select, update

from app.accounts import ways_in
from app.extensions import db
from app.features.webhooks import outbox
from app.i18n.stored import translated_text
from app.models import User, Webhook, WebhookDelivery
from tests.receivers import ALL_EVENTS, Receiver, ann_id, answer, send
from tests.reminding import come_due, note_with_reminder, sweep
from tests.signing_in import recovered
from tests.workers import run_queued_jobs

SECRET = re.compile(r'value="(whsec_[A-Za-z0-9+/=]+)"')


def make_on_page(user, receiver, events=ALL_EVENTS, tag=""):
    """Make a webhook with the page's form; give the receiver the secret the page showed."""
    response = user.post("/mypage/webhooks", {"url": receiver.url(), "events": events, "tag": tag})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    receiver.secret = SECRET.search(response.get_data(as_text=True))[1]
    return response


def test_my_page_links_to_the_webhooks_page(user):
    assert 'href="/mypage/webhooks"' in user.get("/mypage").get_data(as_text=True)
    page = user.get("/mypage/webhooks")
    assert page.status_code == 200
    assert "You have no webhooks." in page.get_data(as_text=True)


def test_a_webhook_made_on_the_page_shows_its_secret_once_and_sends_a_test_event(app, user):
    with Receiver() as receiver:
        make_on_page(user, receiver)
        page = user.get("/mypage/webhooks").get_data(as_text=True)
        assert receiver.url() in page and receiver.secret not in page
        hook_id = int(re.search(r'id="webhook-(\d+)"', page)[1])
        assert user.post(f"/mypage/webhooks/{hook_id}/test").status_code == 302
        run_queued_jobs(app)
        (sent,) = receiver.deliveries
        assert sent["verified"] and sent["payload"]["type"] == "webhook.test"
        page = user.get("/mypage/webhooks").get_data(as_text=True)
        assert "webhook.test" in page and "Delivered" in page and " ms" in page
        with app.app_context():
            delivery_id = db.session.scalar(select(WebhookDelivery.id))
        again = user.post(f"/mypage/webhooks/{hook_id}/deliveries/{delivery_id}/again")
        assert again.status_code == 302
        run_queued_jobs(app)
        assert [d["id"] for d in receiver.deliveries] == [sent["id"], sent["id"]]
        assert all(d["verified"] for d in receiver.deliveries)
        assert user.post(f"/mypage/webhooks/{hook_id}/delete").status_code == 302
        assert "You have no webhooks." in user.get("/mypage/webhooks").get_data(as_text=True)


def test_the_form_refuses_what_the_api_refuses(user, app, monkeypatch):
    monkeypatch.setitem(app.config, "ENVIRONMENT", "production")
    response = user.post(
        "/mypage/webhooks",
        {"url": "https://169.254.169.254/latest/", "events": ["note.exploded"]},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Memo only sends to public addresses: 169.254.169.254 is a link-local" in text
    assert "fetches" not in text and "Choose events among" in text


def test_a_reminder_that_goes_off_is_a_reminder_fired_event(app, user):
    with Receiver() as receiver:
        make_on_page(user, receiver, events=["reminder.fired"])
        note_id = note_with_reminder(user, "Dentist")
        come_due(app)
        assert sweep(app) == 1
        send(app, ann_id(app))
        (fired,) = receiver.deliveries
        assert fired["verified"] and fired["payload"]["type"] == "reminder.fired"
        assert fired["payload"]["data"]["id"] == note_id


def test_a_recovery_pauses_a_webhook_until_its_owner_keeps_it(app, user):
    with Receiver() as receiver:
        make_on_page(user, receiver, events=["note.created"])
        with app.app_context():
            account = db.session.scalar(select(User))
            ended = recovered(account)
            db.session.commit()
        assert ended.paused_hooks == 1
        user.login()
        user.create_note("While paused", "text")
        send(app, ann_id(app))
        assert receiver.deliveries == []
        page = user.get("/mypage/webhooks").get_data(as_text=True)
        assert "Paused by the recovery of your account" in page
        hook_id = int(re.search(r'id="webhook-(\d+)"', page)[1])
        assert user.post(f"/mypage/webhooks/{hook_id}/keep").status_code == 302
        receiver.behaviour = answer(200)
        run_queued_jobs(app)
        assert [d["payload"]["data"]["title"] for d in receiver.deliveries] == ["While paused"]


def test_the_page_is_in_korean_for_a_korean_account(app, user):
    with app.app_context():
        db.session.execute(update(User).values(language="ko"))
        db.session.commit()
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert "웹훅과 피드" in page and "메모를 만들 때 (note.created)" in page


def test_the_recoverys_mail_says_how_many_webhooks_and_feeds_it_paused(app):
    ended = ways_in.Ended(paused_hooks=2).as_details()
    with app.test_request_context():
        text = render_template("mail/_ended.txt", ended=ended)
        with force_locale("ko"):
            korean = render_template("mail/_ended.html", ended=ended)
    assert "2 webhooks and feeds are paused" in text
    assert "웹훅과 피드 2개를 멈췄어요" in korean


def test_a_failed_deliverys_reason_is_in_the_readers_language(app, user):
    with app.app_context():
        db.session.execute(update(User).values(language="ko"))
        db.session.commit()
    receiver = Receiver().start()
    make_on_page(user, receiver, events=["note.created"])
    receiver.stop()  # down: the delivery fails to connect
    user.create_note("Plans", "text")
    send(app, ann_id(app))
    with app.app_context():
        reason = db.session.scalar(select(WebhookDelivery.last_error))
    with app.test_request_context(), force_locale("ko"):
        korean = translated_text(reason)
    assert reason and korean != reason
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert escape(korean) in page and escape(reason) not in page


def test_the_page_shows_the_last_20_deliveries(app, user):
    with Receiver() as receiver:
        make_on_page(user, receiver, events=["note.created"])
    with app.app_context():
        webhook = db.session.scalar(select(Webhook))
        for _ in range(25):  # each sent before the next press (one waits at most)
            assert outbox.add_test_delivery(webhook)
            db.session.flush()
            db.session.execute(update(WebhookDelivery).values(state="delivered"))
        db.session.commit()
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert page.count("<code>webhook.test</code>") == 20
