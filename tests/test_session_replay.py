"""Signing out and changing the password end sessions server-side: replayed cookies get nothing."""

import pytest

from devenv.visitors import PASSWORD, Browser

NEW_PASSWORD = "a brand new passphrase"


def stolen_cookies(browser):
    """Return the session and remember-me cookies a thief could have copied from `browser`."""
    return {name: browser.client.get_cookie(name).value for name in ("session", "remember_token")}


def replay(app, cookies):
    """Return a browser that carries only the given cookies, as a thief's would."""
    thief = Browser(app.test_client())
    for name, value in cookies.items():
        thief.client.set_cookie(name, value)
    return thief


def assert_signed_out(app, thief, count_rows):
    """Check the thief is sent to sign in, and cannot write even with a CSRF token."""
    response = thief.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert thief.get("/mypage/export").status_code == 302
    notes = count_rows("note")
    thief.get("/auth/login")  # a page with a valid CSRF token for the replayed session
    response = thief.post("/notes/new", {"title": "written by a thief"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert count_rows("note") == notes


@pytest.fixture
def laptop(app, user):
    """Ann's second browser, signed in with remember-me."""
    browser = Browser(app.test_client())
    assert browser.login(remember="y").status_code == 302
    return browser


@pytest.mark.parametrize(
    "replayed", [("session",), ("remember_token",), ("session", "remember_token")]
)
def test_cookies_of_another_browser_are_refused_after_a_password_change(
    app, user, laptop, replayed, count_rows
):
    cookies = stolen_cookies(laptop)
    assert replay(app, cookies).get("/").status_code == 200  # the cookies worked before
    response = user.change_password(PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    thief = replay(app, {name: cookies[name] for name in replayed})
    assert_signed_out(app, thief, count_rows)
    assert laptop.get("/").status_code == 302
    assert user.get("/").status_code == 200  # the browser that changed it stays signed in


@pytest.mark.parametrize(
    "replayed", [("session",), ("remember_token",), ("session", "remember_token")]
)
def test_cookies_are_refused_after_logout(app, laptop, replayed, count_rows):
    cookies = stolen_cookies(laptop)
    assert replay(app, cookies).get("/").status_code == 200
    assert laptop.logout().status_code == 302
    thief = replay(app, {name: cookies[name] for name in replayed})
    assert_signed_out(app, thief, count_rows)
