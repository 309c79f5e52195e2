"""The fetcher refuses every address that is not a public web server's, before any connection.

Nothing here connects anywhere: each refusal happens in the address check or before the lookup.
"""

import ipaddress

import pytest

from app.fetcher.addresses import address_problem, parse_url
from app.fetcher.client import FetchError, fetch
from tests.fetching import LIMITS, fetch_local


def test_ipv6_loopback_is_refused_without_the_test_setting():
    with pytest.raises(FetchError, match=r"::1 is a loopback address"):
        fetch("http://[::1]/", allow_loopback=False, **LIMITS)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/", "a private address"),
        ("http://172.16.5.4/", "a private address"),
        ("http://192.168.1.1/", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://100.64.0.1/", "a shared \\(carrier-grade NAT\\) address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://240.0.0.1/", "a reserved address"),
        ("http://255.255.255.255/", "a reserved address"),
        ("http://192.0.2.10/", "a private address"),  # documentation range
        ("http://167772161/", "10.0.0.1 is a private address"),  # 10.0.0.1 as one number
        ("http://0x0a.1/", "10.0.0.1 is a private address"),  # read as it is, with no lookup
        ("http://[::ffff:127.0.0.1]/", "carries an IPv4 address"),
        ("http://[::ffff:10.0.0.1]/", "carries an IPv4 address"),
        ("http://[::127.0.0.1]/", "carries an IPv4 address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "carries an IPv4 address"),  # NAT64 169.254.169.254
        ("http://[2002:7f00:1::1]/", "carries an IPv4 address"),  # 6to4 of 127.0.0.1
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "carries an IPv4 address"),  # Teredo
        ("http://[fe80::1]/", "a link-local address"),
        ("http://[fc00::1]/", "a private address"),
        ("http://[ff02::1]/", "a multicast address"),
        ("http://[::]/", "an unspecified address"),
    ],
)
def test_non_public_addresses_are_refused_even_with_loopback_allowed(url, reason):
    with pytest.raises(FetchError, match=f"only fetches public web pages: .*{reason}"):
        fetch_local(url)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_pass_the_check(address):
    assert address_problem(ipaddress.ip_address(address)) is None


def test_an_unknown_host_is_a_clear_error():
    with pytest.raises(FetchError, match="could not be found"):
        fetch_local("http://no-such-host.invalid/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/file.txt", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("gopher://127.0.0.1:6379/_INFO", "Only http:// and https://"),
        ("example.com", "Only http:// and https://"),
        ("http://", "no host name"),
        ("http:///etc/passwd", "no host name"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://example.com@127.0.0.1/", "user name or password"),
        ("http://exa mple.com/", "spaces, backslashes or control characters"),
        ("http://127.0.0.1\\@example.com/", "spaces, backslashes or control characters"),
        ("http://example.com/\r\nX-Injected: 1", "spaces, backslashes or control characters"),
        ("http://example.com:99999/", "not a valid web address"),
        ("http://example.com:0/", "not a valid web address"),
        ("http://[::1/", "not a valid web address"),
        ("http://exa..mple.com/", "host name is not valid"),
        ("http://%31%32%37.0.0.1/", "host name is not valid"),
        ("http://ex*ample.com/", "host name is not valid"),
    ],
)
def test_invalid_addresses_are_refused_before_any_lookup(url, message):
    with pytest.raises(FetchError, match=message):
        parse_url(url)
    with pytest.raises(FetchError, match=message):
        fetch_local(url)


def test_international_host_names_are_sent_as_idna():
    assert parse_url("http://Bücher.example./").host == "xn--bcher-kva.example"
