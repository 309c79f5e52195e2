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

import io
import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.fetcher.addresses import parse_url
from app.fetcher.messages import FetchError
from devenv.visitors import PASSWORD, Browser
from tests.webservers import Reply, serve_pages

# Modest counts keep the suite fast; every run draws new examples.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MISSING = object()  # the field is left out of the submission

NASTY = [
    "\x00",
    "ann\x00@example.com",
    "\u202eexe.txt",  # a right-to-left override
    "\u200b\u200d\ufeff",  # zero-width characters and a byte order mark
    "\r\nSet-Cookie: x=1",
    "' OR '1'='1' --",
    '"><script>alert(1)</script>',
    "{{ 7 * 7 }}",
    "../../../etc/passwd",
    "ﬃİßẞ\u0301\u0345",  # characters that change length when cased or normalized
    "🙂\U0010ffff\ue000",  # beyond the BMP, and private use
    "\x85\u2028\u2029",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "http://127.0.0.1:1/",
    "",
    "   ",
]
NOT_UTF8 = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\x80", b"\xff\xfe", b"\x80", b"ok\xe2\x82"]

# Digits to str.isdigit() or Unicode, but not ASCII: "²", "١٢", "߁", full-width "１".
unicode_digits = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=12)
huge_numbers = st.one_of(
    st.integers(2**63 - 3, 2**63 + 3),
    st.integers(10**17, 10**40),
    st.integers(-(2**64), -1),
).map(str) | st.integers(4290, 5000).map(lambda digits: "9" * digits)
numbers = st.one_of(st.integers(0, 30).map(str), unicode_digits, huge_numbers)
cursors = st.builds(lambda a, b: f"{a}-{b}", numbers, numbers)
controls = st.sampled_from(["\n", "\r\n", "\r", "\x00", "\t", "\x1b", "\x85", "\u2028", "\x7f"])
plain = st.one_of(
    st.sampled_from(["/", "/notes/1", "/?page=2", "ann@example.com", "ann", "1", "0-0"]),
    numbers,
    cursors,
)
# A control character at the start, the end, or both ends of an ordinary value.
edged = st.one_of(
    st.builds(lambda value, end: value + end, plain, controls),
    st.builds(lambda start, value: start + value, controls, plain),
    st.builds(lambda end, value: end + value + end, controls, plain),
)
texts = st.one_of(
    st.text(max_size=300),
    numbers,
    cursors,
    edged,
    st.text(
        st.characters(categories=["Cc", "Cf", "Cn", "Co", "Zl", "Zp", "Mn", "Me"]), max_size=40
    ),
    st.sampled_from(NASTY),
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["a", "é", "\x00", "🙂", "\u202e", "<b>", " ", "/"]),
        st.integers(250, 60_000),
    ),
)
raw_bytes = st.one_of(st.binary(max_size=60), st.sampled_from(NOT_UTF8))
values = st.one_of(texts, raw_bytes)
field_values = st.one_of(values, st.lists(values, min_size=2, max_size=3), st.just(MISSING))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def as_bytes(value):
    return value if isinstance(value, bytes) else value.encode()


def pairs(fields):
    """Return (name, value) pairs: repeated fields repeated, missing ones left out."""
    result = []
    for name, value in fields.items():
        if value is not MISSING:
            result += [(name, item) for item in (value if isinstance(value, list) else [value])]
    return result


def query_string(params):
    """Percent-encode parameters, non-UTF-8 bytes included, into a query string."""
    return "&".join(
        f"{quote_from_bytes(as_bytes(name))}={quote_from_bytes(as_bytes(value))}"
        for name, value in pairs(params)
    )


@dataclass
class Submission:
    """A form submitted urlencoded, as multipart (bytes become files), or as a JSON body."""

    kind: str
    fields: object

    def send(self, browser, url):
        client, token = browser.client, browser.token
        if self.kind == "json":
            return client.post(url, json=self.fields, headers={"X-CSRFToken": token})
        if self.kind == "multipart":
            data = MultiDict([("csrf_token", token)])
            for name, value in pairs(self.fields):
                data.add(name, value if isinstance(value, str) else (io.BytesIO(value), "x.txt"))
            return client.post(url, data=data, content_type="multipart/form-data")
        body = query_string({"csrf_token": token, **self.fields})
        return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


def submissions(*names, **strategies):
    """Hostile submissions of a form with fields `names` (or the strategies given by name)."""
    form = st.fixed_dictionaries(
        {name: field_values for name in names} | {name: s for name, s in strategies.items()}
    )
    json_form = st.fixed_dictionaries({name: json_values for name in [*names, *strategies]})
    return st.one_of(
        st.builds(Submission, st.just("urlencoded"), form),
        st.builds(Submission, st.just("multipart"), form),
        st.builds(Submission, st.just("json"), json_form | json_values),
    )


def table_rows(app, leave_out=()):
    """Return every row of every table, but those named in `leave_out`."""
    with app.app_context():
        return {
            table.name: sorted(
                map(tuple, db.session.execute(text(f'SELECT * FROM "{table.name}"'))), key=repr
            )
            for table in db.metadata.sorted_tables
            if table.name not in leave_out
        }


def assert_handled(app, response, before, leave_out=()):
    """No 500, and a refused request (any 4xx) changed nothing."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if 400 <= response.status_code < 500:
        assert table_rows(app, leave_out) == before


def assert_stays_on_site(response):
    """A redirect goes to a path of this site, never to another host."""
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert not (parts.scheme or parts.netloc)
    assert location.isprintable()


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
def test_toggle_next_never_leaves_the_site(app, user, note, target):
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
