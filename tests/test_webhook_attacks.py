"""Webhooks attacked as an outsider would: addresses inside Memo's network (at creation and after
DNS, on every delivery), a redirect to the metadata service, a DNS answer that changes
between two deliveries, a slow receiver, an endless answer, another account's webhook; and
production's rules, which no test setting lifts. docs/security.md lists them."""

import socket
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.features.webhooks.service import delivery_settings
from app.models import WebhookDelivery
from tests.apiclients import is_problem
from tests.receivers import Receiver, ann_id, endless, make_hook, redirect, send, slow

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def production_rules(app, monkeypatch):
    """The app's delivery rules as in production: no loopback, https only."""
    monkeypatch.setitem(app.config, "ENVIRONMENT", "production")


@pytest.fixture
def no_loopback(app, monkeypatch):
    monkeypatch.setitem(app.config, "FETCH_ALLOW_LOOPBACK", False)


@pytest.fixture
def dns(monkeypatch):
    """Answer lookups of `hooks.test` with the addresses a test lists, one list a lookup."""
    answers = []
    real = socket.getaddrinfo

    def lookup(host, port, *args, **kwargs):
        if host != "hooks.test":
            return real(host, port, *args, **kwargs)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return answers


def deliveries(app):
    with app.app_context():
        return db.session.execute(
            select(
                WebhookDelivery.state,
                WebhookDelivery.last_status,
                WebhookDelivery.last_error,
                WebhookDelivery.duration_ms,
            ).order_by(WebhookDelivery.id)
        ).all()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://2130706433/hook",  # 127.0.0.1, as inet_aton and the resolver read them
        "https://0x7f.1/hook",
        "https://0177.0.0.1/hook",
        "https://127.1/hook",
        "https://0/hook",
        "https://0xa9.254.169.254/hook",
        "https://user:pass@hooks.example.com/hook",
        "http://hooks.example.com/hook",  # plain http, in production
    ],
)
def test_production_refuses_an_address_inside_the_network_or_not_https(
    app, ann_api, production_rules, url
):
    response = ann_api.post("/webhooks", {"url": url, "events": ["note.created"]})
    assert is_problem(response, 422, "invalid-fields"), response.get_json()
    assert response.get_json()["invalid_params"][0]["name"] == "url"


def test_production_lifts_nothing_whatever_the_test_setting(app, production_rules):
    assert app.config["FETCH_ALLOW_LOOPBACK"] is True  # the suite's own setting...
    with app.test_request_context():
        rules = delivery_settings()
    assert rules["allow_loopback"] is False and rules["allow_http"] is False  # ...not honoured


def test_a_name_that_resolves_to_loopback_is_refused_at_delivery(
    app, ann_api, receiver, no_loopback, dns
):
    dns.append("127.0.0.1")
    made = ann_api.post(
        "/webhooks",
        {"url": f"http://hooks.test:{receiver.port}/hook", "events": ["note.created"]},
    )
    assert made.status_code == 201  # a name: checked when it is looked up, at each delivery
    ann_api.new_note(title="Secret plans")
    send(app, ann_id(app))
    assert receiver.paths == []
    ((state, status, error, _),) = deliveries(app)
    assert state == "pending" and status is None and "127.0.0.1" in error


def test_a_dns_answer_that_changes_between_deliveries_is_checked_again(
    app, ann_api, receiver, no_loopback, dns, monkeypatch
):
    # The first answer is let through (as a public address would be) and the connection goes
    # to that very address; the next lookup answers a private one, refused before connecting.
    monkeypatch.setitem(app.config, "FETCH_ALLOW_LOOPBACK", True)
    dns.extend(["127.0.0.1", "10.0.0.7"])
    response = ann_api.post(
        "/webhooks",
        {"url": f"http://hooks.test:{receiver.port}/hook", "events": ["note.created"]},
    )
    receiver.secret = response.get_json()["secret"]
    ann_api.new_note(title="One")
    send(app, ann_id(app))
    ann_api.new_note(title="Two")
    send(app, ann_id(app))
    assert [d["payload"]["data"]["title"] for d in receiver.deliveries] == ["One"]
    assert all(d["verified"] for d in receiver.deliveries)
    first, second = deliveries(app)
    assert first.state == "delivered"
    assert second.state == "pending" and "10.0.0.7" in second.last_error


def test_a_redirect_to_the_metadata_service_is_not_followed(app, ann_api, receiver):
    make_hook(ann_api, receiver, events=["note.created"])
    receiver.behaviour = redirect(METADATA)
    ann_api.new_note(title="Plans")
    send(app, ann_id(app))
    assert receiver.paths == ["/hooks/memo"]  # the POST, and nothing after it
    ((state, status, _, _),) = deliveries(app)
    assert (state, status) == ("pending", 307)  # a failure, tried again later


def test_a_slow_receiver_is_cut_off_at_the_deadline(app, ann_api, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DEADLINE_SECONDS", 1.0)
    make_hook(ann_api, receiver, events=["note.created"])
    receiver.behaviour = slow(5)
    ann_api.new_note(title="Plans")
    started = time.monotonic()
    send(app, ann_id(app))
    assert time.monotonic() - started < 3
    ((state, status, error, duration_ms),) = deliveries(app)
    assert state == "pending" and status is None and error and duration_ms < 2000


def test_an_endless_answer_is_read_no_further_than_4_kb(app, ann_api, receiver):
    make_hook(ann_api, receiver, events=["note.created"])
    receiver.behaviour = endless
    ann_api.new_note(title="Plans")
    started = time.monotonic()
    send(app, ann_id(app))
    assert time.monotonic() - started < 3
    ((state, status, _, _),) = deliveries(app)
    assert (state, status) == ("delivered", 200)
    assert receiver.hung_up.wait(5)  # Memo hung up instead of reading on


def test_another_accounts_webhook_cannot_be_tested_sent_again_or_ended_from_my_page(
    app, ann_api, other_user, receiver
):
    made = make_hook(ann_api, receiver, events=["note.created"])
    ann_api.new_note(title="Plans")
    send(app, ann_id(app))
    with app.app_context():
        delivery_id = db.session.scalar(select(WebhookDelivery.id))
    base = f"/mypage/webhooks/{made['id']}"
    for path in (
        f"{base}/test",
        f"{base}/delete",
        f"{base}/keep",
        f"{base}/turn-on",
        f"{base}/deliveries/{delivery_id}/again",
    ):
        assert other_user.post(path).status_code == 404, path
    assert len(ann_api.get("/webhooks").get_json()["items"]) == 1
    assert len(receiver.deliveries) == 1
