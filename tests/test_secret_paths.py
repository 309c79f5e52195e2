"""Secrets in paths stay out of the request log and error reports (issue 78): every route's
variable is a number, a secret (`<secret:token>`) or said here not to be one, and the log
line of each marked route shows the variable's name, never its value."""

import re
import string
from datetime import timedelta
from urllib.parse import quote, unquote, unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.error_reports import scrubbed_request
from app.extensions import db
from app.features.reminders.links import signer
from app.models import User
from app.models.access import MailToken
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
    ("api.rename_tag", "name"): "a tag's name, of the token's own account: it opens nothing",
}
NUMBERS = ("id", "int")
VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(arguments):name>
SECRET = "S3cretTok3n-of-a-link_0123456789abcdef"


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


def starts_of(app):
    """Return each marked route's start without the slashes around it: `s`, `reminders/act`."""
    return sorted({rule.rule.split("<secret:")[0].strip("/") for rule in marked_rules(app)})


@pytest.fixture
def real_tokens(app, user):
    """Return {each marked route's start: a real token of it, made as the app makes them}."""
    location = user.create_note("Shared", "words").headers["Location"]
    page = user.post(f"{location}/share", {"expires_days": ""}, follow_redirects=True)
    tokens = {"s": re.search(r"/s/([A-Za-z0-9_-]{16,})", page.get_data(as_text=True))[1]}
    page = user.post("/mypage/webhooks/feeds", {"tag": ""}).get_data(as_text=True)
    tokens["feeds"] = re.search(r"/feeds/(memo_feed_[A-Za-z0-9_-]+)", page)[1]
    with app.app_context():
        tokens["reminders/act"] = signer().dumps([1, 0])
        ann = db.session.scalar(select(User).filter_by(email="ann@example.com"))
        for purpose in ("verify", "reset", "secure", "remove"):
            tokens[f"auth/{purpose}"] = MailToken.issue(ann, purpose, ann.email, timedelta(hours=1))
        db.session.commit()
    assert set(tokens) == set(starts_of(app))  # a new marked route: make it a real token here
    return tokens


def get_raw(app, path):
    """GET `path` as a WSGI server hands it on, however odd (`//s/`, `\\`): percent-decoded."""
    wsgi_path = unquote_to_bytes(path).decode("latin-1")
    overrides = {"PATH_INFO": wsgi_path, "RAW_URI": path, "REQUEST_URI": path}
    return app.test_client(use_cookies=False).get("/", environ_overrides=overrides)


def assert_kept_out(app, path, token, logged):
    """Assert that neither the log line nor the error report of `path` holds `token`."""
    assert token.casefold() not in unquote(unquote(logged)).casefold(), (path, logged)
    with app.app_context():
        for sent in (path, quote(path, safe="/;")):
            url = scrubbed_request({"url": f"https://memo.example{sent}", "method": "GET"})["url"]
            assert token.casefold() not in unquote(unquote(url)).casefold(), (path, url)


# `{start}` is each marked route's (`s`, `reminders/act`, `auth/reset`), `{token}` a real one.
MANGLED = [
    *("/{start}//{token}", "/{START}/{token}", "/./{start}/{token}", "/{start}/../{start}/{token}"),
    # An outside attack's second finding, from raw paths (curl --path-as-is): logged whole.
    *("/{start};x/{token}", "/{start}\\{token}", "/{start}/{token}/..", "/{start}/{token}/../"),
    *("/{start}/{token}/../../x", "/static/../{start}/{token}"),
]


@pytest.mark.parametrize("path", MANGLED)
def test_a_secret_behind_a_mangled_start_is_masked_too(app, real_tokens, stdout_log, path):
    """Outside attacks' findings: `/s//<token>` was logged whole on its way to a 308, and the
    raw paths `/s;x/<token>`, `/s\\<token>`, `/s/<token>/..`, `/static/../s/<token>` too."""
    for start, token in real_tokens.items():
        sent = path.format(start=start, START=start.upper(), token=token)
        get_raw(app, sent)
        assert token not in stdout_log.getvalue(), sent
        assert logged_paths(stdout_log)[-1] == f"/{start}/<token>", sent
        assert_kept_out(app, sent, token, logged_paths(stdout_log)[-1])


TOKEN_CHARACTERS = string.ascii_letters + string.digits + "-_."
BEFORE = ["", "/static/..", "/.", "/x/..", "/static/../..", "/static/..;", "/static/%2e%2e"]
BETWEEN = ["/", "//", "\\", "/./", ";x/", ";/", "/x/../", "%2F", "%252F", "%5C", "/%2e/"]
AFTER = ["", "/", "/..", "/../", "/../../x", ";x", "/.", "%2F..", "\\..", "/more"]


def spelled(draw, text, ways):
    """Return `text` with each character as one of `ways` would write it (drawn)."""
    return "".join(draw(st.sampled_from(ways))(c) for c in text)


AS_IS, UPPER = (lambda c: c), (lambda c: c.upper())
ENCODED, TWICE = (lambda c: f"%{ord(c):02X}"), (lambda c: f"%25{ord(c):02X}")


@st.composite
def mangled_paths(draw, starts):
    """Return (a marked route's path mangled as routers, proxies and browsers may read it, its
    token): dot segments, `;x`, `\\`, doubled slashes, letter case, percent-encoding."""
    token = draw(st.text(TOKEN_CHARACTERS, min_size=16, max_size=48))
    words = draw(st.sampled_from(starts)).split("/")
    path = draw(st.sampled_from(BEFORE)) + draw(st.sampled_from(["/", "//", "/./"]))
    path += spelled(draw, words[0], [AS_IS, UPPER, ENCODED, TWICE])
    for part in [spelled(draw, word, [AS_IS, UPPER, ENCODED, TWICE]) for word in words[1:]] + [
        spelled(draw, token, [AS_IS, AS_IS, AS_IS, ENCODED])
    ]:
        path += draw(st.sampled_from(BETWEEN)) + part
    return path + draw(st.sampled_from(AFTER)), token


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_mangling_of_a_marked_routes_path_logs_its_token(app, stdout_log, data):
    path, token = data.draw(mangled_paths(starts_of(app)))
    before = len(stdout_log.getvalue())
    get_raw(app, path)
    assert token not in stdout_log.getvalue()[before:], path
    assert logged_paths(stdout_log)[-1].endswith("/<token>"), path  # cut at a marked start
    assert_kept_out(app, path, token, logged_paths(stdout_log)[-1])


def test_a_numbered_routes_path_is_logged_as_it_came(app, client, stdout_log):
    """A route whose variables are all numbers holds no token: an operator reads it whole,
    though `feeds` is in it; a path no route matches is cut at a marked start it holds."""
    client.post("/mypage/webhooks/feeds/12/revoke")
    client.get("/static/copy.js")
    client.get("/notes/s/x")
    assert logged_paths(stdout_log) == [
        "/mypage/webhooks/feeds/12/revoke",
        "/static/copy.js",
        "/s/<token>",
    ]


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
