"""Signup tells nobody whether an email has an account, and is throttled in PostgreSQL.

Every accepted signup gets the same answer (check your email), whether it created an
account or found one, after the same work (a password hash, a queued mail); the mail tells
the owner which (tests/test_mail_flows.py). A taken nickname is said to be taken:
nicknames are public. Signups are counted per client and in total.
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from devenv.visitors import PASSWORD, Browser

SIGNED_UP = "Check your email"


def sign_up(app, email, nickname, password=PASSWORD, address="192.0.2.10"):
    """Submit the signup form as a new visitor from `address`; return the answer and the page."""
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    browser.get("/auth/signup")
    response = browser.post(
        "/auth/signup",
        {"email": email, "nickname": nickname, "password": password}
        | {"password_confirm": password},
    )
    if response.status_code != 302:
        return response, None
    return response, browser.client.get(response.headers["Location"])


def shown(page):
    """Return a page's text without its CSRF token, the one part that differs by session."""
    text = page.get_data(as_text=True)
    return text.replace(text.partition('name="csrf_token"')[2].partition(">")[0], "")


def test_a_taken_email_gets_the_answer_a_free_one_gets(app, user, count_rows):
    taken, taken_page = sign_up(app, "ann@example.com", "newcomer", "another password")
    free, free_page = sign_up(app, "bob@example.com", "bob")
    assert taken.status_code == free.status_code == 302
    assert taken.headers["Location"] == free.headers["Location"] == "/auth/login"
    assert SIGNED_UP in shown(taken_page)
    # The sign-in form has each address filled in, as typed: the pages differ only there.
    assert 'value="ann@example.com"' in shown(taken_page)
    assert 'value="bob@example.com"' in shown(free_page)
    address = "someone@example.com"
    assert shown(taken_page).replace("ann@example.com", address) == shown(free_page).replace(
        "bob@example.com", address
    )
    assert "already exists" not in shown(taken_page)
    assert count_rows("user") == 2


def test_a_taken_email_keeps_its_account_and_password(app, user):
    sign_up(app, "ANN@example.com", "newcomer", "another password")
    user.logout()
    assert user.login(password="another password").status_code == 400
    assert user.login().status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.nickname)) == "ann"


def test_signing_up_does_not_sign_in_until_the_login(app, count_rows):
    browser = Browser(app.test_client())
    response = browser.submit(
        "/auth/signup",
        {"email": "cy@example.com", "nickname": "cy", "password": PASSWORD}
        | {"password_confirm": PASSWORD},
    )
    assert response.headers["Location"] == "/auth/login"
    assert browser.client.get("/").status_code == 302
    assert count_rows("login_session") == 0
    assert browser.login(email="cy@example.com").status_code == 302
    assert browser.get("/").status_code == 200


def test_a_taken_nickname_is_named_and_the_email_is_not(app, user, count_rows):
    for email in ("ann@example.com", "dora@example.com"):
        response, _ = sign_up(app, email, "ANN")
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "This nickname is taken." in page
        assert "already exists" not in page
    assert count_rows("user") == 1


def test_signups_from_one_client_are_throttled(app, monkeypatch, count_rows):
    monkeypatch.setitem(app.config, "SIGNUPS_PER_CLIENT", 3)
    answers = [sign_up(app, f"u{n}@example.com", f"user{n}")[0] for n in range(4)]
    assert [answer.status_code for answer in answers] == [302, 302, 302, 429]
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many sign-ups" in refused.get_data(as_text=True)
    assert count_rows("user") == 3
    other_client = sign_up(app, "u9@example.com", "user9", address="198.51.100.7")[0]
    assert other_client.status_code == 302


def test_signups_from_one_ipv6_site_are_counted_by_its_48(app, monkeypatch, count_rows):
    monkeypatch.setitem(app.config, "SIGNUPS_PER_NETWORK", 3)
    answers = [  # one site, a new /64 for every signup: each /64 is far under its own limit
        sign_up(app, f"s{n}@example.com", f"site{n}", address=f"2001:db8:7:{n}::1")[0]
        for n in range(4)
    ]
    assert [answer.status_code for answer in answers] == [302, 302, 302, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "Too many sign-ups" in answers[-1].get_data(as_text=True)
    assert count_rows("user") == 3
    another_site = sign_up(app, "s9@example.com", "site9", address="2001:db8:8::1")[0]
    assert another_site.status_code == 302


def test_signups_in_total_are_throttled(app, monkeypatch, count_rows):
    monkeypatch.setitem(app.config, "SIGNUPS_IN_TOTAL", 2)
    addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    answers = [
        sign_up(app, f"v{n}@example.com", f"visitor{n}", address=address)[0]
        for n, address in enumerate(addresses)
    ]
    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert count_rows("user") == 2


@pytest.mark.parametrize("taken", [True, False], ids=["taken", "free"])
def test_a_throttled_signup_says_nothing_about_the_email(app, user, monkeypatch, taken):
    monkeypatch.setitem(app.config, "SIGNUPS_PER_CLIENT", 0)
    email = "ann@example.com" if taken else "eve@example.com"
    response, _ = sign_up(app, email, "eve")
    assert response.status_code == 429
    assert "already exists" not in response.get_data(as_text=True)
