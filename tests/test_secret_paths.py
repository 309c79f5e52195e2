"""Secrets in paths stay out of the request log and error reports (issue 78): every route's
variable is a number, a secret (`<secret:token>`) or said here not to be one, and the log
line of each marked route shows the variable's name, never its value."""

import io
import logging
import re

import pytest

from app.error_reports import scrubbed_request
from app.secret_paths import masked_path, secret_names

# The variables of the route table that are no secret, each with why. A new route with a
# variable fails test_every_path_variable_is_a_marked_secret_or_said_not_to_be until it is
# declared a secret (`<secret:name>`) or listed here.
NOT_SECRET = {
    ("static", "filename"): "the app's own files, the same for everyone",
    ("apidocs.problem_type", "problem"): "a problem's public name",
    ("notes.shared", "share"): "a share sheet's id: opens nothing, only its own signed-in "
    "account's page, whose text is in that browser",
    ("notes.save_shared", "share"): "the same share sheet's id, a POST of the signed-in account",
    ("notes.discard_shared", "share"): "the same share sheet's id",
    ("inbox.message", "name"): "the local mail inbox's file names (development only)",
}
NUMBERS = ("id", "int")
VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(arguments):name>
SECRET = "S3cretTok3n-of-a-link_0123456789abcdef"


@pytest.fixture
def stdout_log(app):
    """Return a buffer that receives what the app's stdout log handler writes."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "memo", False))
    buffer = io.StringIO()
    original = handler.setStream(buffer)
    yield buffer
    handler.setStream(original)


def marked_rules(app):
    return [rule for rule in app.url_map.iter_rules() if secret_names(rule.rule)]


def shown(rule):
    """Return the path the log shows for a marked route: each secret by its name."""
    return rule.rule.replace("<secret:", "<")


def test_every_path_variable_is_a_marked_secret_or_said_not_to_be(app):
    unmarked = []
    for rule in app.url_map.iter_rules():
        for converter, name in VARIABLE.findall(rule.rule):
            if converter in (*NUMBERS, "secret") or (rule.endpoint, name) in NOT_SECRET:
                continue
            unmarked.append(f"{rule.rule} ({rule.endpoint}: {name})")
    assert unmarked == []
    marked = {shown(rule) for rule in marked_rules(app)}
    assert {"/s/<token>", "/reminders/act/<token>", "/auth/reset/<token>"} <= marked


def path_of(rule):
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", SECRET, rule.rule)


def logged_paths(buffer):
    return re.findall(r"path=(\S+)", buffer.getvalue())


def test_the_log_line_of_each_marked_route_shows_no_secret(app, client, stdout_log):
    rules = marked_rules(app)
    for rule in rules:
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS"})[0]
        client.open(path_of(rule), method=method)
    logged = logged_paths(stdout_log)
    assert len(logged) == len(rules)
    assert SECRET not in stdout_log.getvalue()
    assert sorted(logged) == sorted(shown(rule) for rule in rules)


@pytest.mark.parametrize("tail", ["/", "/more", ".", "%2F"])
def test_a_marked_routes_secret_with_more_after_it_is_masked_too(client, stdout_log, tail):
    client.get(f"/s/{SECRET}{tail}")
    client.get(f"/reminders/act/{SECRET}{tail}")
    assert SECRET not in stdout_log.getvalue()
    starts = ("/s/<token>", "/reminders/act/<token>")
    assert all(path.startswith(starts) for path in logged_paths(stdout_log))


@pytest.mark.parametrize(
    "path", ["/s//{}", "/S/{}", "/./s/{}", "/s/../s/{}", "/reminders/act//{}", "/Reminders/act/{}"]
)
def test_a_secret_behind_a_mangled_start_is_masked_too(client, stdout_log, path):
    """An outside attack's finding: `/s//<token>` was logged whole on its way to a 308."""
    client.get(path.format(SECRET))
    assert SECRET not in stdout_log.getvalue()
    assert logged_paths(stdout_log)[-1] in ("/s/<token>", "/reminders/act/<token>")


def test_a_real_share_link_is_logged_without_its_token(user, stdout_log):
    location = user.create_note("Shared", "words").headers["Location"]
    note_page = user.post(f"{location}/share", {"expires_days": ""}, follow_redirects=True)
    token = re.search(r"/s/([A-Za-z0-9_-]{16,})", note_page.get_data(as_text=True)).group(1)
    assert user.get(f"/s/{token}").status_code == 200
    assert token not in stdout_log.getvalue()
    assert "/s/<token>" in logged_paths(stdout_log)


def test_an_error_report_of_a_marked_route_carries_no_secret(app):
    with app.app_context():
        for rule in marked_rules(app):
            method = "GET" if "GET" in rule.methods else "POST"
            url = f"https://memo.example{path_of(rule)}?q=1"
            sent = scrubbed_request({"url": url, "method": method, "headers": {}})
            assert sent["url"] == f"https://memo.example{shown(rule)}", sent
        assert masked_path(f"/s/{SECRET}/x") == "/s/<token>"  # all after the start
    outside = scrubbed_request({"url": f"https://memo.example/s/{SECRET}", "method": "GET"})
    assert SECRET not in outside["url"]  # no app at hand: only the path's first segment
