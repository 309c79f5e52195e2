"""The fetcher reaches public web pages only, within bounds of time and size.

Pages come from real servers on 127.0.0.1 (tests/webservers.py). Tests that need loopback pass
allow_loopback=True, as TestingConfig does; the loopback refusal itself is tested without it.
Every refusal of another range happens before any connection, so no traffic leaves the machine.
"""

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from app.fetcher.client import FetchError, fetch
from tests.fetching import LIMITS, fetch_local
from tests.webservers import (
    CertificateAuthority,
    Reply,
    endless_body,
    huge_length,
    redirect,
    serve_pages,
    serve_raw,
    silent,
    trickle_body,
    trickle_headers,
    trickle_unsized_body,
)

PAGE = b"<html><head><title>Memo</title></head><body><p>Hello, world!</p></body></html>"


@pytest.fixture
def site():
    """A local web server with a few pages; add more with `site.add_pages`."""
    with serve_pages({"/": Reply(PAGE)}) as server:
        yield server


# Production's limits (config.py), unless a test sets its own.


def test_fetches_a_page_and_says_who_it_wants(site):
    page = fetch_local(site.url())
    assert page.media_type == "text/html"
    assert "Hello, world!" in page.text
    request = site.requests[0]
    assert request["path"] == "/"
    assert request["headers"]["Host"] == f"127.0.0.1:{site.port}"
    assert request["headers"]["Accept-Encoding"] == "identity"


def test_a_host_name_is_sent_as_the_host_header(site):
    fetch_local(f"http://localhost:{site.port}/")
    assert site.requests[0]["headers"]["Host"] == f"localhost:{site.port}"


def test_path_and_query_are_sent_percent_encoded(site):
    site.add_pages({"/caf%C3%A9?q=%C3%BC": Reply(b"ok", "text/plain")})
    assert fetch_local(site.url("/café?q=ü#part")).text == "ok"
    assert site.requests[0]["path"] == "/caf%C3%A9?q=%C3%BC"  # the server matches decoded paths


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "127.0.0.2",
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f000001",  # ... as one hex number
        "0x7f.1",  # hex and short
        "127.1",  # short
        "0177.0.0.1",  # octal
    ],
)
def test_loopback_is_refused_without_the_test_setting(site, host):
    with pytest.raises(FetchError, match="only fetches public web pages.*a loopback address"):
        fetch(f"http://{host}:{site.port}/", allow_loopback=False, **LIMITS)
    assert site.requests == []


@pytest.fixture
def dns(monkeypatch):
    """Answer name lookups for *.test from a table, the way a hostile DNS server could.

    Other names go to the real resolver. `dns.lookups` counts the lookups of each name.
    """
    real_getaddrinfo = socket.getaddrinfo
    table = SimpleNamespace(answers={}, lookups={})
    answers, lookups = table.answers, table.lookups

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups[host] = lookups.get(host, 0) + 1
        addresses = answers[host](lookups[host])
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_a_host_is_refused_if_any_of_its_addresses_is_not_public(site, dns):
    dns.answers["mixed.test"] = lambda lookup: ["127.0.0.1", "10.0.0.1"]
    with pytest.raises(FetchError, match="mixed.test resolves to 10.0.0.1, a private address"):
        fetch_local(f"http://mixed.test:{site.port}/")
    assert site.requests == []


def test_a_second_dns_answer_cannot_swap_the_vetted_address(site, dns):
    # The first lookup says 127.0.0.1 (where the site is); any later one says 127.0.0.2,
    # where nothing listens. Connecting by name would look the host up again and fail.
    dns.answers["rebind.test"] = lambda lookup: ["127.0.0.1" if lookup == 1 else "127.0.0.2"]
    page = fetch_local(f"http://rebind.test:{site.port}/")
    assert "Hello, world!" in page.text
    assert dns.lookups["rebind.test"] == 1
    assert site.requests[0]["headers"]["Host"] == f"rebind.test:{site.port}"


def test_a_hung_dns_answer_for_one_host_holds_back_no_other_host(site, dns):
    answered = threading.Event()
    dns.answers["hung.test"] = lambda lookup: answered.wait(30) and ["127.0.0.1"]
    try:
        for number in range(8):  # more hung lookups than the old pool had threads
            with pytest.raises(FetchError, match="took longer than 0.3 seconds"):
                fetch_local(f"http://hung.test:{site.port}/{number}", deadline=0.3)
        dns.answers["fine.test"] = lambda lookup: ["127.0.0.1"]
        page = fetch_local(f"http://fine.test:{site.port}/", deadline=5)
    finally:
        answered.set()
    assert "Hello, world!" in page.text
    assert dns.lookups["hung.test"] == 1  # asked again while pending, the lookup is shared


def test_redirects_are_followed_up_to_three(site):
    site.add_pages({"/1": redirect("/2"), "/2": redirect("/3", 301), "/3": redirect("/", 307)})
    assert "Hello, world!" in fetch_local(site.url("/1")).text
    assert [request["path"] for request in site.requests] == ["/1", "/2", "/3", "/"]


def test_a_fourth_redirect_is_refused(site):
    site.add_pages(
        {"/1": redirect("/2"), "/2": redirect("/3"), "/3": redirect("/4"), "/4": redirect("/")}
    )
    with pytest.raises(FetchError, match="redirected more than 3 times"):
        fetch_local(site.url("/1"))
    assert "/" not in [request["path"] for request in site.requests]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.1/admin", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::ffff:169.254.169.254]/", "carries an IPv4 address"),
        ("http://0x0a.1/", "10.0.0.1 is a private address"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("http://user:pw@example.com/", "user name or password"),
    ],
)
def test_every_redirect_is_vetted_again(site, location, reason):
    site.add_pages({"/away": redirect(location)})
    with pytest.raises(FetchError, match=f"redirected to .*{reason}"):
        fetch_local(site.url("/away"))


def test_a_redirect_without_a_location_is_refused(site):
    site.add_pages({"/nowhere": Reply(status=302, content_type=None)})
    with pytest.raises(FetchError, match="without saying where"):
        fetch_local(site.url("/nowhere"))


@pytest.mark.parametrize(
    "answer",
    [trickle_body, trickle_unsized_body, trickle_headers, silent],
    ids=["body", "unsized-body", "headers", "silent"],
)
def test_a_slow_server_fails_within_the_deadline(answer):
    with serve_raw(answer) as server:
        started = time.monotonic()
        with pytest.raises(FetchError, match="took longer than 2 seconds"):
            fetch_local(f"http://127.0.0.1:{server.port}/", deadline=2)
        assert time.monotonic() - started < 3


def test_an_endless_body_is_cut_off_at_the_cap():
    with (
        serve_raw(endless_body) as server,
        pytest.raises(FetchError, match="larger than 2 MB; Memo stopped reading"),
    ):
        fetch_local(f"http://127.0.0.1:{server.port}/")


def test_a_smaller_cap_cuts_off_sooner(site):
    site.add_pages({"/big": Reply(b"word " * 60_000)})  # 300,000 bytes
    with pytest.raises(FetchError, match="larger than 256 KB"):
        fetch_local(site.url("/big"), max_bytes=256 * 1024)
    assert "word" in fetch_local(site.url("/big")).text


def test_an_announced_huge_body_is_refused_without_reading():
    with serve_raw(huge_length) as server:
        started = time.monotonic()
        with pytest.raises(FetchError, match="larger than 2 MB"):
            fetch_local(f"http://127.0.0.1:{server.port}/")
        assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/json", "application/octet-stream", "text/csv"]
)
def test_only_text_content_types_are_counted(site, content_type):
    site.add_pages({"/thing": Reply(b"data", content_type)})
    with pytest.raises(FetchError, match=f"plain text only, not {content_type}"):
        fetch_local(site.url("/thing"))


def test_a_response_without_content_type_is_refused(site):
    site.add_pages({"/thing": Reply(b"data", content_type=None)})
    with pytest.raises(FetchError, match="did not say what it sent"):
        fetch_local(site.url("/thing"))


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xhtml+xml; charset=utf-8", "TEXT/HTML"]
)
def test_html_xhtml_and_plain_text_are_accepted(site, content_type):
    site.add_pages({"/thing": Reply(b"some words", content_type)})
    assert fetch_local(site.url("/thing")).text == "some words"


def test_a_compressed_body_is_refused(site):
    site.add_pages({"/gz": Reply(b"\x1f\x8b...", headers={"Content-Encoding": "gzip"})})
    with pytest.raises(FetchError, match="compressed"):
        fetch_local(site.url("/gz"))


def test_an_error_status_is_reported(site):
    with pytest.raises(FetchError, match="The site answered 404 Not Found."):
        fetch_local(site.url("/missing"))


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("café".encode("latin-1"), "text/plain; charset=ISO-8859-1", "café"),
        ("привет".encode("cp1251"), 'text/plain; charset="windows-1251"', "привет"),
        (
            b'<meta charset="windows-1251"><p>' + "привет".encode("cp1251"),
            "text/html",
            "привет",
        ),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            + "мир".encode("koi8-r"),
            "text/html",
            "мир",
        ),
        ("naïve".encode("utf-16"), "text/plain", "naïve"),  # byte order mark
        ("naïve".encode(), "text/plain", "naïve"),  # sniffed as UTF-8
        ("café".encode("cp1252"), "text/plain", "café"),  # not UTF-8: Windows-1252
        (b"caf\xc3\xa9 \xff", "text/plain; charset=utf-8", "café \ufffd"),  # bad byte replaced
        ("café".encode(), "text/plain; charset=no-such-charset", "café"),
    ],
)
def test_charset_from_header_meta_or_sniffing(site, body, content_type, expected):
    site.add_pages({"/text": Reply(body, content_type)})
    assert expected in fetch_local(site.url("/text")).text


@pytest.mark.parametrize("label", ["punycode", "idna", "undefined", "utf-7", "hz-gb-2312"])
@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_charset_no_browser_knows_is_ignored(site, label, where):
    # Python's punycode codec takes quadratic time (a 512 KB page held a worker for 45 s);
    # idna and undefined raised UnicodeError out of the fetch, and the count stayed running.
    body = "naïve hello-world".encode()
    if where == "meta":
        site.add_pages({"/text": Reply(f'<meta charset="{label}">'.encode() + body, "text/html")})
    else:
        site.add_pages({"/text": Reply(body, f"text/html; charset={label}")})
    assert fetch_local(site.url("/text")).text.endswith("naïve hello-world")


def test_a_web_label_names_its_encoding(site):
    korean = Reply("메모 안녕".encode("euc-kr"), "text/html; charset=ks_c_5601-1987")
    site.add_pages({"/text": korean})
    assert fetch_local(site.url("/text")).text == "메모 안녕"


@pytest.fixture
def authority(tmp_path):
    return CertificateAuthority(tmp_path)


def test_https_connects_to_the_address_but_verifies_the_host_name(authority):
    with serve_pages({"/": Reply(PAGE)}, tls=authority.server_context("localhost")) as server:
        page = fetch_local(f"https://localhost:{server.port}/", ca_certs=str(authority.ca_file))
    assert "Hello, world!" in page.text
    assert server.server_names == ["localhost"]
    assert server.requests[0]["headers"]["Host"] == f"localhost:{server.port}"


def test_https_refuses_a_certificate_for_another_name(authority):
    context = authority.server_context("other.example")
    with (
        serve_pages({"/": Reply(PAGE)}, tls=context) as server,
        pytest.raises(FetchError, match="certificate of localhost could not be verified"),
    ):
        fetch_local(f"https://localhost:{server.port}/", ca_certs=str(authority.ca_file))
    assert server.requests == []


def test_https_refuses_a_certificate_from_an_unknown_authority(authority):
    context = authority.server_context("localhost")
    with (
        serve_pages({"/": Reply(PAGE)}, tls=context) as server,
        pytest.raises(FetchError, match="certificate of localhost could not be verified"),
    ):
        fetch_local(f"https://localhost:{server.port}/")
    assert server.requests == []
