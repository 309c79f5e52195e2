"""Hostile input in every form field and query parameter: never a 500, nothing written on refusal.

Property-based (hypothesis): huge strings, control characters and NUL, odd Unicode and
direction overrides, bytes that are not UTF-8 (an encoded lone surrogate among them: the
nearest a client can send to one), repeated and missing fields, files where text belongs,
and JSON bodies of the wrong types; and, in every field and parameter, the classes that
once gave 500s: digits that are digits to str.isdigit() only, numbers past bigint, a
date or int()'s digit limit, cursor-shaped pairs of them, and control characters (a
final newline above all) at either end of ordinary values. Each submission carries the
CSRF token of a real session, so that it reaches the form rather than stopping at the
CSRF check.

FUZZ_EXAMPLES raises the number of examples per test (default 40), for a long run:
    FUZZ_EXAMPLES=1500 ./scripts/test tests/test_fuzz.py
"""

import ipaddress

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from app.fetcher.addresses import parse_url
from app.fetcher.messages import FetchError
from devenv.visitors import PASSWORD, Browser
from tests.fuzzing import (
    FUZZ,
    MISSING,
    Submission,
    assert_handled,
    assert_stays_on_site,
    field_values,
    pairs,
    query_string,
    submissions,
    table_rows,
    texts,
    values,
)
from tests.webservers import Reply, serve_pages


@pytest.fixture
def unthrottled(app, monkeypatch):
    """Lift the login, signup and note-write throttles, so that every example reaches the form."""
    for limit in ("LOGIN_FAILURES_PER_EMAIL", "LOGIN_FAILURES_PER_CLIENT"):
        monkeypatch.setitem(app.config, limit, 10**9)
    for limit in (
        "SIGNUPS_PER_CLIENT",
        "SIGNUPS_PER_NETWORK",
        "SIGNUPS_IN_TOTAL",
        "SIGNINS_IN_TOTAL",
    ):
        monkeypatch.setitem(app.config, limit, 10**9)
    for limit in ("LOGIN_FAILURES_PER_NETWORK", "NOTE_WRITES_PER_MINUTE"):
        monkeypatch.setitem(app.config, limit, 10**9)


@pytest.fixture
def note(user):
    """The id of a note of the signed-in user's."""
    assert user.create_note("A note", "its content").status_code == 302
    return 1


# --- Accounts --------------------------------------------------------------------------------


@FUZZ
@given(submission=submissions("email", "nickname", "password", "password_confirm"))
@example(
    Submission(
        "urlencoded",
        {"email": "a\x00@example.com", "nickname": "a\x00", "password": PASSWORD}
        | {"password_confirm": PASSWORD},
    )
)
@example(Submission("json", ["email", "nickname"]))
def test_signup_fields(app, unthrottled, submission):
    browser = Browser(app.test_client())
    browser.get("/auth/signup")
    before = table_rows(app, leave_out={"login_throttle"})
    response = submission.send(browser, "/auth/signup")
    assert_handled(app, response, before, leave_out={"login_throttle"})


@FUZZ
@given(
    submission=submissions("email", "password", "remember"),
    target=st.one_of(values, st.just(MISSING)),
)
@example(Submission("urlencoded", {"email": "ann\x00@example.com", "password": "x"}), MISSING)
@example(Submission("json", {"email": 5, "password": None}), MISSING)
def test_login_fields_and_next(app, user, unthrottled, submission, target):
    browser = Browser(app.test_client())
    browser.get("/auth/login")
    before = table_rows(app, leave_out={"login_throttle"})
    url = f"/auth/login?{query_string({'next': target})}"
    assert_handled(app, submission.send(browser, url), before, leave_out={"login_throttle"})


@FUZZ
@given(target=values)
def test_login_never_redirects_off_the_site(app, user, unthrottled, target):
    browser = Browser(app.test_client())
    url = f"/auth/login?{query_string({'next': target})}"
    response = browser.submit(url, {"email": "ann@example.com", "password": PASSWORD})
    assert_stays_on_site(response)


@FUZZ
@given(submission=submissions("nickname"))
@example(Submission("urlencoded", {"nickname": "ann\x00"}))
@example(Submission("multipart", {"nickname": b"a file"}))
def test_nickname_field(app, user, submission):
    before = table_rows(app)
    assert_handled(app, submission.send(user, "/mypage/nickname"), before)


@FUZZ
@given(submission=submissions("language", "timezone"))
@example(Submission("urlencoded", {"language": "ko\x00", "timezone": "Asia/Seoul\x00"}))
@example(Submission("urlencoded", {"language": "ko", "timezone": "../../etc/passwd"}))
@example(Submission("json", ["language", "timezone"]))
def test_settings_fields(app, user, submission):
    before = table_rows(app)
    assert_handled(app, submission.send(user, "/mypage/settings"), before)


@FUZZ
@given(submission=submissions("language", "next"))
@example(Submission("urlencoded", {"language": "ko", "next": "//evil.example/"}))
@example(Submission("multipart", {"language": b"ko"}))
def test_language_switch_fields(app, user, submission):
    before = table_rows(app)
    response = submission.send(user, "/language")
    assert_handled(app, response, before)
    if response.status_code == 302:
        assert_stays_on_site(response)


@FUZZ
@given(submission=submissions("current_password", "new_password", "new_password_confirm"))
def test_password_change_fields(app, user, unthrottled, submission):
    before = table_rows(app, leave_out={"login_throttle"})
    response = submission.send(user, "/mypage/password")
    assert_handled(app, response, before, leave_out={"login_throttle"})


@FUZZ
@given(submission=submissions("password"))
@example(Submission("json", False))
def test_account_deletion_field(app, user, unthrottled, submission):
    before = table_rows(app, leave_out={"login_throttle"})
    response = submission.send(user, "/mypage/delete")
    assert_handled(app, response, before, leave_out={"login_throttle"})
    assert user.get("/mypage").status_code == 200


# --- Notes -----------------------------------------------------------------------------------


@FUZZ
@given(submission=submissions("title", "content"))
@example(Submission("multipart", {"title": b"a file", "content": "text"}))
@example(Submission("json", {"title": {"nested": 1}, "content": True}))
def test_new_note_fields(app, user, unthrottled, submission):
    before = table_rows(app)
    assert_handled(app, submission.send(user, "/notes/new"), before)


@FUZZ
@given(submission=submissions("title", "content"))
def test_edit_note_fields(app, user, note, unthrottled, submission):
    before = table_rows(app)
    assert_handled(app, submission.send(user, f"/notes/{note}/edit"), before)


@FUZZ
@given(target=field_values)
def test_toggle_next_never_leaves_the_site(app, user, note, unthrottled, target):
    response = Submission("urlencoded", {"next": target}).send(user, f"/notes/{note}/toggle")
    assert_stays_on_site(response)


@FUZZ
@given(params=st.fixed_dictionaries({"page": field_values, "before": field_values}))
def test_notes_list_query(app, user, note, params):
    assert_lists_without_writing(app, user, params)


@FUZZ
@given(params=st.fixed_dictionaries({"after": field_values, "page": field_values}))
def test_notes_list_newer_query(app, user, note, params):
    assert_lists_without_writing(app, user, params)


def assert_lists_without_writing(app, user, params):
    """The notes list with `params` answers 200 or 404 and writes nothing."""
    before = table_rows(app)
    response = user.get(f"/?{query_string(params)}")
    assert response.status_code in (200, 404)
    assert table_rows(app) == before


# --- Word counts -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site():
    """A web page on 127.0.0.1, for the addresses that are fetched."""
    with serve_pages({"/": Reply(b"<p>a few words</p>")}) as server:
        yield server


def fetched_elsewhere(submission):
    """Return whether the form would fetch from anywhere but this machine (never in tests)."""
    if submission.kind == "json":
        return False  # JSON is no form submission: nothing is fetched
    for _, value in pairs(submission.fields)[:1]:
        value = value.decode(errors="replace") if isinstance(value, bytes) else value
        try:
            host = parse_url(value.strip()).host
        except FetchError:
            return False
        try:
            return ipaddress.ip_address(host).is_global
        except ValueError:
            return True  # a name would be looked up in DNS
    return False


@FUZZ
@given(data=st.data())
def test_word_count_address(app, user, site, data):
    local = st.builds(lambda path: f"http://127.0.0.1:{site.port}/{path}", texts)
    submission = data.draw(submissions(url=st.one_of(field_values, local)))
    assume(not fetched_elsewhere(submission))
    before = table_rows(app)
    assert_handled(app, submission.send(user, "/wordcount"), before)


@FUZZ
@given(params=st.fixed_dictionaries({"page": field_values}))
def test_word_count_list_query(app, user, params):
    before = table_rows(app)
    response = user.get(f"/wordcount?{query_string(params)}")
    assert response.status_code in (200, 404)
    assert table_rows(app) == before


# --- Search ----------------------------------------------------------------------------------


@FUZZ
@given(params=st.fixed_dictionaries({"q": field_values, "page": field_values}))
@example({"q": "' & | ! : * ( )", "page": "1"})
@example({"q": "\x00", "page": MISSING})
@example({"q": "a" * 5000, "page": "9" * 5000})
@example({"q": '-"" "*" -* -', "page": "2"})
def test_search_query(app, user, note, params):
    before = table_rows(app)
    response = user.get(f"/search?{query_string(params)}")
    assert response.status_code in (200, 400, 404)
    assert table_rows(app) == before
