"""What an outside attack found (issue 15): each test failed on the code before its fix.

Input that gave a 500, private pages a shared cache could keep, a CSRF token that outlived
sign-in, proxy headers a client could forge, and a readiness probe that told too much.
"""

import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import LoginThrottle
from config import database_uri
from devenv.liveserver import LOCAL_MAIL_SETTINGS
from devenv.visitors import DYNO, PASSWORD, RouterBrowser
from tests.databases import UNREACHABLE
from tests.routechecks import send
from tests.routematrix import SIGNED_IN

LOGIN = {"email": "ann@example.com", "password": PASSWORD}

# --- 3. No input gives a 500 -----------------------------------------------------------------


@pytest.mark.parametrize("target", ["/\n", "/notes/new\n", "/mypage\r\n", "/\x00"])
def test_login_with_a_next_path_ending_in_a_line_break_goes_home(app, user, target):
    user.logout()
    response = user.submit(f"/auth/login?{urlencode({'next': target})}", LOGIN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_ticking_a_note_with_a_next_path_ending_in_a_line_break_goes_to_the_note(app, user):
    user.create_note("Milk")
    response = user.post("/notes/1/toggle", {"next": "/\n"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/1"


def short(value):
    """Return a test id for an odd value: ASCII, and short."""
    return ascii(value)[:24]


NOT_A_PAGE = [
    "²",  # a digit to str.isdigit(), not to int()
    "١",  # an Arabic-Indic one: int() reads it, the page links never have it
    "9" * 19,  # past bigint once multiplied into an offset
    "9" * 5000,  # past int()'s 4,300 digits
    "1\n",
]
NOT_A_CURSOR = [
    "²-1",
    "1-²",
    "١-١",
    f"{'9' * 18}-1",  # microseconds past datetime's year 9999
    f"1-{2**63}",  # an id past bigint
    "1-1\n",
]


@pytest.mark.parametrize("page", NOT_A_PAGE, ids=short)
def test_a_page_number_that_is_no_plain_number_is_404(user, page):
    user.create_note()
    response = user.get("/", query_string={"page": page})
    assert response.status_code == 404
    assert "That page of notes does not exist." in response.get_data(as_text=True)


@pytest.mark.parametrize("page", NOT_A_PAGE, ids=short)
def test_a_word_count_page_number_that_is_no_plain_number_is_404(user, page):
    assert user.get("/wordcount", query_string={"page": page}).status_code == 404


@pytest.mark.parametrize("direction", ["before", "after"])
@pytest.mark.parametrize("cursor", NOT_A_CURSOR, ids=short)
def test_a_cursor_out_of_range_or_not_in_ascii_digits_is_404(user, direction, cursor):
    user.create_note()
    response = user.get("/", query_string={direction: cursor})
    assert response.status_code == 404


def signup_through_the_router(app, **headers):
    """POST a valid signup form with its token through the HTTPS router, with `headers`."""
    browser = RouterBrowser(app.test_client())
    browser.get("/auth/signup")
    data = {"email": "ann@example.com", "nickname": "ann", "password": PASSWORD}
    data |= {"password_confirm": PASSWORD, "csrf_token": browser.token}
    headers = {**browser.headers, **headers}
    return browser.client.post("/auth/signup", data=data, headers=headers, base_url=DYNO)


@pytest.mark.parametrize("referer", ["https://[::1/form", "https://localhost:notaport/", "\x00"])
def test_a_malformed_referer_on_a_post_with_a_valid_token_is_400(
    production_app, count_rows, referer
):
    assert signup_through_the_router(production_app, Referer=referer).status_code == 400
    assert count_rows("user") == 0


# --- 5. Private pages are never cached -------------------------------------------------------


@pytest.mark.parametrize(("rule", "method"), SIGNED_IN, ids=[f"{m} {r}" for r, m in SIGNED_IN])
def test_every_answer_to_a_signed_in_user_is_no_store(world, rule, method):
    response = send(world.ann, method, world.url(rule), world.form(rule, method))
    assert response.status_code < 500
    assert "no-store" in response.headers.get("Cache-Control", ""), response.headers


def test_an_error_page_shown_to_a_signed_in_user_is_no_store(user):
    response = user.get("/notes/999")
    assert response.status_code == 404
    assert "no-store" in response.headers["Cache-Control"]


def test_public_files_stay_cacheable(client):
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")


# --- 6. A fresh session at sign-in and sign-out ----------------------------------------------


def test_a_csrf_token_from_before_sign_in_is_refused_after_it(app, user, count_rows):
    user.logout()
    user.get("/auth/login")
    anonymous_token = user.token
    assert user.login().status_code == 302
    response = user.client.post(
        "/notes/new", data={"title": "Planted", "content": "", "csrf_token": anonymous_token}
    )
    assert response.status_code == 400
    assert count_rows("note") == 0


def test_a_csrf_token_of_a_signed_in_session_is_refused_after_sign_out(app, user, count_rows):
    user.get("/notes/new")
    signed_in_token = user.token
    user.logout()
    response = user.client.post(
        "/auth/signup",
        data={"email": "eve@example.com", "nickname": "eve", "password": PASSWORD}
        | {"password_confirm": PASSWORD, "csrf_token": signed_in_token},
    )
    assert response.status_code == 400
    assert count_rows("user") == 1


# --- 7. Only the router's headers are trusted -----------------------------------------------


def test_x_forwarded_host_cannot_make_another_site_look_like_this_one(production_app, count_rows):
    headers = {"X-Forwarded-Host": "evil.example", "Referer": "https://evil.example/form"}
    assert signup_through_the_router(production_app, **headers).status_code == 400
    assert count_rows("user") == 0


def throttled_clients(app):
    with app.app_context():
        return set(
            db.session.scalars(select(LoginThrottle.subject).where(LoginThrottle.scope == "client"))
        )


@pytest.mark.parametrize(("hops", "client"), [("1", "198.51.100.2"), ("2", "198.51.100.1")])
def test_the_client_address_is_read_past_as_many_proxies_as_configured(
    app, postgres, monkeypatch, hops, client
):
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("TWO_STEP_KEY", LOCAL_MAIL_SETTINGS["TWO_STEP_KEY"])
    monkeypatch.setenv("DATABASE_URL", postgres.main_url)
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", hops)
    production = create_app("config.ProductionConfig")
    browser = RouterBrowser(production.test_client(), address="203.0.113.9")
    browser.headers["X-Forwarded-For"] = "203.0.113.9, 198.51.100.1, 198.51.100.2"
    assert browser.login(password="wrong password").status_code == 400
    assert throttled_clients(app) == {client}
    with production.app_context():
        db.engine.dispose()


# --- 8. /readyz names what failed, and only the log says more --------------------------------


def test_readyz_names_only_what_failed_and_logs_the_detail(app, caplog):
    broken = create_app("config.TestingConfig", UNREACHABLE)
    with caplog.at_level(logging.WARNING, logger="memo.health"):
        response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "reason": "database"}
    assert "127.0.0.1" in caplog.text and "5432" not in response.get_data(as_text=True)


def test_readyz_says_schema_when_migrations_have_not_run(app, postgres):
    fresh = create_app(
        "config.TestingConfig",
        {"SQLALCHEMY_DATABASE_URI": database_uri(postgres.create_scratch_database())},
    )
    response = fresh.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "reason": "schema"}
    with fresh.app_context():
        db.engine.dispose()
