"""Password guessing is throttled per email and per client, in PostgreSQL, across every worker."""

import http.client
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.throttle import PRUNE_BATCH, client_subject, prune
from devenv.visitors import PASSWORD, Browser, RouterBrowser, Visitor
from tests.databases import run_sql

REFUSED = "Too many failed password attempts."
WRONG = "not the password"
WINDOW_SECONDS = 15 * 60


@pytest.fixture
def signed_out_ann(user):
    """Ann's account, signed out: a browser at the login page."""
    user.logout()
    return user


def client_at(app, address):
    """Return a test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def fail_logins(browser, times, email="ann@example.com"):
    """Sign in with a wrong password `times` times; each must be an ordinary 400."""
    for _ in range(times):
        response = browser.login(email=email, password=WRONG)
        assert response.status_code == 400
        assert "Email or password is incorrect." in response.get_data(as_text=True)


def assert_refused(response):
    """Check a response is the throttle's 429, telling the user how long to wait."""
    assert response.status_code == 429
    assert REFUSED in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= WINDOW_SECONDS


def age_windows(app, minutes):
    """Make every throttle window `minutes` older, as if that much time had passed."""
    run_sql(
        app,
        "UPDATE login_throttle"
        " SET window_started_at = window_started_at - make_interval(mins => :minutes)",
        minutes=minutes,
    )


def test_after_five_failures_even_the_right_password_is_refused_with_429(
    signed_out_ann, count_rows
):
    fail_logins(signed_out_ann, 5)
    response = signed_out_ann.login()
    assert_refused(response)
    assert "try again in 15 minutes" in response.get_data(as_text=True)
    assert count_rows("login_session") == 0
    assert signed_out_ann.get("/").status_code == 302


def test_the_refusal_is_json_for_json_clients(signed_out_ann):
    fail_logins(signed_out_ann, 5)
    credentials = {"email": "ann@example.com", "password": PASSWORD}
    response = signed_out_ann.submit(
        "/auth/login", credentials, headers={"Accept": "application/json"}
    )
    assert response.status_code == 429
    assert REFUSED in response.json["error"]


def test_any_letter_case_of_the_email_counts_as_the_same_account(signed_out_ann):
    for email in ["ann@example.com", "ANN@example.com", " Ann@Example.com "] * 2:
        signed_out_ann.login(email=email, password=WRONG)
    assert_refused(signed_out_ann.login(email="aNN@EXAMPLE.COM"))


def test_other_accounts_are_unaffected(signed_out_ann, other_user):
    other_user.logout()
    fail_logins(signed_out_ann, 5)
    assert_refused(signed_out_ann.login())
    assert other_user.login("bob@example.com").status_code == 302


def test_unknown_emails_are_throttled_like_real_ones(browser):
    fail_logins(browser, 5, email="nobody@example.com")
    assert_refused(browser.login(email="nobody@example.com"))


def test_a_successful_login_forgets_the_failures(signed_out_ann):
    fail_logins(signed_out_ann, 4)
    assert signed_out_ann.login().status_code == 302
    signed_out_ann.logout()
    fail_logins(signed_out_ann, 4)
    assert signed_out_ann.login().status_code == 302
    signed_out_ann.logout()
    fail_logins(signed_out_ann, 5)
    assert_refused(signed_out_ann.login())


def test_the_account_opens_again_when_the_window_ends(app, signed_out_ann):
    fail_logins(signed_out_ann, 5)
    assert_refused(signed_out_ann.login())
    age_windows(app, 14)
    assert_refused(signed_out_ann.login())
    age_windows(app, 2)
    assert signed_out_ann.login().status_code == 302


def test_two_app_instances_share_the_count(app, signed_out_ann):
    """Two create_app() apps on one database: two workers, or two dynos."""
    second_dyno = create_app("config.TestingConfig")
    try:
        elsewhere = Browser(second_dyno.test_client())
        for browser in [signed_out_ann, elsewhere, signed_out_ann, elsewhere, signed_out_ann]:
            fail_logins(browser, 1)
        assert_refused(elsewhere.login())
        assert_refused(signed_out_ann.login())
    finally:
        with second_dyno.app_context():
            db.engine.dispose()


def test_parallel_guesses_get_exactly_the_allowed_number_of_checks(app, signed_out_ann):
    guessers = [Browser(app.test_client()) for _ in range(20)]
    for guesser in guessers:
        guesser.get("/auth/login")

    def guess(guesser):
        return guesser.post("/auth/login", {"email": "ann@example.com", "password": WRONG})

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(response.status_code for response in pool.map(guess, guessers))
    assert statuses == [400] * 5 + [429] * 15


def test_one_client_guessing_many_emails_is_refused_but_others_are_not(
    app, signed_out_ann, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_CLIENT", 8)
    for number in range(8):
        fail_logins(signed_out_ann, 1, email=f"victim{number}@example.com")
    # Ann's own account has no failures, but this client has spent its budget.
    assert_refused(signed_out_ann.login())
    elsewhere = Browser(client_at(app, "198.51.100.20"))
    assert elsewhere.login().status_code == 302


def test_behind_the_router_the_client_is_the_forwarded_address(
    production_app, signed_out_ann, monkeypatch
):
    monkeypatch.setitem(production_app.config, "LOGIN_FAILURES_PER_CLIENT", 3)
    guesser = RouterBrowser(production_app.test_client(), address="203.0.113.66")
    for number in range(3):
        fail_logins(guesser, 1, email=f"victim{number}@example.com")
    assert_refused(guesser.login())
    office = RouterBrowser(production_app.test_client(), address="198.51.100.20")
    assert office.login().status_code == 302


@pytest.mark.parametrize(
    ("address", "subject"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", "unknown"),
        (None, "unknown"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_its_64(address, subject):
    assert client_subject(address) == subject


# --- Password checks on my page -------------------------------------------------------------


def test_guessing_the_current_password_on_my_page_is_throttled(app, user, count_rows):
    """A stolen session cannot guess the password on my page instead of the login page."""
    for _ in range(5):
        response = user.change_password(WRONG, "new password 1")
        assert response.status_code == 400
    response = user.change_password(PASSWORD, "new password 1")
    assert_refused(response)
    # The same account's sign-in is refused too, until the window ends.
    assert_refused(Browser(app.test_client()).login())
    assert Browser(client_at(app, "198.51.100.20")).login().status_code == 429
    age_windows(app, 16)
    assert Browser(app.test_client()).login().status_code == 302


def test_guessing_the_password_to_delete_the_account_is_throttled(user, count_rows):
    for _ in range(5):
        assert user.post("/mypage/delete", {"password": WRONG}).status_code == 400
    assert_refused(user.post("/mypage/delete", {"password": PASSWORD}))
    assert count_rows("user") == 1
    assert user.get("/mypage").status_code == 200


def test_the_right_password_on_my_page_forgets_earlier_failures(user):
    for _ in range(4):
        assert user.post("/mypage/delete", {"password": WRONG}).status_code == 400
    # The right current password with a new one that is too short: refused, but not a guess.
    short = {"current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"}
    assert user.post("/mypage/password", short).status_code == 400
    for _ in range(4):
        assert user.post("/mypage/delete", {"password": WRONG}).status_code == 400
    assert user.post("/mypage/delete", {"password": PASSWORD}).status_code == 302


# --- Old rows --------------------------------------------------------------------------------


def test_rows_of_ended_windows_are_pruned_as_attempts_come_in(app, browser):
    run_sql(
        app,
        "INSERT INTO login_throttle (scope, subject, failures, window_started_at)"
        " SELECT 'email', 'old' || n || '@example.com', 3, now() - interval '2 hours'"
        " FROM generate_series(1, 150) AS n",
    )

    def rows():
        with app.app_context():
            return db.session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE window_started_at < now() - interval '15 min'),"
                    " count(*) FROM login_throttle"
                )
            ).one()

    fail_logins(browser, 1, email="someone@example.com")
    # 100 ended windows pruned; the email's, the client's and all sign-ins' rows added.
    assert rows() == (50, 53)
    fail_logins(browser, 1, email="someone@example.com")
    assert rows() == (0, 3)


def test_one_attempt_prunes_one_batch_whatever_plan_postgres_picks(app, count_rows):
    """A nested loop runs an `IN (subquery)` again for each row: the batch must still be one."""
    run_sql(
        app,
        "INSERT INTO login_throttle (scope, subject, failures, window_started_at)"
        " SELECT 'email', 'old' || n || '@example.com', 3, now() - interval '2 hours'"
        " FROM generate_series(1, 150) AS n",
    )
    with app.app_context():
        for plan in ("hashjoin", "hashagg", "memoize", "material", "sort"):
            db.session.execute(text(f"SET LOCAL enable_{plan} = off"))
        prune(timedelta(minutes=15), ["email"])
        db.session.commit()
    assert count_rows("login_throttle") == 150 - PRUNE_BATCH


# --- Sign-ins in total, and IPv6 sites by their /48 --------------------------------------------


def test_failed_sign_ins_from_everywhere_together_have_a_ceiling(app, signed_out_ann, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNINS_IN_TOTAL", 3)
    for number in range(3):  # three guessers, three addresses, three accounts
        guesser = Browser(client_at(app, f"198.51.100.{number + 1}"))
        fail_logins(guesser, 1, email=f"someone{number}@example.com")
    refused = Browser(client_at(app, "203.0.113.50")).login()
    assert refused.status_code == 429
    assert "Too many sign-in attempts on Memo just now." in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    run_sql(app, "UPDATE login_throttle SET window_started_at = now() - interval '61 minutes'")
    assert Browser(client_at(app, "203.0.113.50")).login().status_code == 302


def test_a_successful_sign_in_gives_its_attempt_back_to_the_total(app, signed_out_ann, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNINS_IN_TOTAL", 2)
    for _ in range(5):
        assert Browser(app.test_client()).login().status_code == 302


def test_an_ipv6_site_is_counted_by_its_48_as_well_as_each_64(app, signed_out_ann, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_NETWORK", 3)
    for number in range(3):  # one site, a new /64 for every guess
        fail_logins(Browser(client_at(app, f"2001:db8:1:{number}::1")), 1, f"x{number}@example.com")
    assert_refused(Browser(client_at(app, "2001:db8:1:99::1")).login())
    assert Browser(client_at(app, "2001:db8:2::1")).login().status_code == 302  # another /48


def post_with_header_lines(server, path, form, lines):
    """POST a form to a live server with `lines`, (name, value) pairs, names repeated as given."""
    body = urlencode(form).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", path)
    lines = [
        *lines,
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Content-Length", str(len(body))),
    ]
    for name, value in lines:
        connection.putheader(name, value)
    connection.endheaders(body)
    try:
        return connection.getresponse().status
    finally:
        connection.close()


def test_two_forwarded_for_lines_are_one_list_and_its_last_address_is_the_client(app, live_server):
    server = live_server()  # gunicorn as the Procfile runs it, one trusted proxy hop
    visitor = Visitor(server.url, behind_router=True)
    visitor.get("/auth/login")
    form = {"csrf_token": visitor.token, "email": "x@example.com", "password": WRONG}
    status = post_with_header_lines(
        server,
        "/auth/login",
        form,
        [
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-For", "198.51.100.7"),  # a client's own line, sent first
            ("X-Forwarded-For", "203.0.113.5, 192.0.2.44"),  # the last value: the router's
            ("Cookie", visitor.cookie_header()),
            ("Referer", "https" + server.url.removeprefix("http") + "/auth/login"),
        ],
    )
    assert status == 400  # the wrong password, counted
    with app.app_context():
        clients = db.session.scalars(
            text("SELECT subject FROM login_throttle WHERE scope = 'client'")
        ).all()
    assert clients == ["192.0.2.44"]
