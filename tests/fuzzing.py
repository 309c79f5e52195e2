"""Hostile input for the fuzz tests (tests/test_fuzz.py): hypothesis strategies for form fields,
query strings and JSON bodies, and the checks every answer must pass.

FUZZ_EXAMPLES raises the number of examples per test (default 20).
"""

import io
import os
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from app.extensions import db

# Modest counts keep the suite fast; every run draws new examples.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20")),
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
