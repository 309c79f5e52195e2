"""Security headers on every response, and cookies that suit how the app is reached."""

import re
from html.parser import HTMLParser
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import User, WordCount
from app.security import origin_of
from devenv import pictures
from devenv.visitors import DYNO, PASSWORD, Browser, RouterBrowser
from tests.workers import run_queued_jobs

FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def policy(response):
    """Return the response's Content-Security-Policy as {directive: [sources]}."""
    directives = [part.split() for part in response.headers["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


def expected_policy(object_store):
    """The whole policy: this site only, plus images from the store and uploads to it."""
    store = re.match(r"https?://[^/]+", object_store.public_url).group(0)
    return {
        "default-src": ["'self'"],
        "img-src": ["'self'", store],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "connect-src": ["'self'", store],
        "form-action": ["'self'", store],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }


@pytest.fixture
def failing_app(app):
    """An app like `app` with one route that fails, showing the 500 page as production would."""
    application = create_app("config.TestingConfig", {"PROPAGATE_EXCEPTIONS": False})

    @application.get("/fail")
    def fail():
        raise RuntimeError("a bug")

    yield application
    with application.app_context():
        db.engine.dispose()


def every_kind_of_response(user, failing_app):
    """Return a response of each kind the app makes, by name."""
    anonymous = Browser(user.client.application.test_client())
    return {
        "html page": user.get("/"),
        "json": user.get("/healthz"),
        "export page": user.get("/mypage/export"),
        "static css": user.get("/static/style.css"),
        "static script": user.get("/static/confirm.js"),
        "redirect": anonymous.get("/notes/new"),
        "post redirect": user.create_note(),
        "form error 400": user.submit("/notes/new", {"title": ""}),
        "csrf 400": user.post("/notes/new", {"title": "x"}, csrf=False),
        "404 page": user.get("/notes/999"),
        "404 json": user.get("/nothing", headers={"Accept": "application/json"}),
        "405": user.client.delete("/healthz"),
        "500": failing_app.test_client().get("/fail"),
    }


def test_every_kind_of_response_carries_the_security_headers(user, failing_app, object_store):
    responses = every_kind_of_response(user, failing_app)
    assert responses["500"].status_code == 500
    for kind, response in responses.items():
        assert response.status_code < 500 or kind == "500", kind
        for name, value in FIXED_HEADERS.items():
            assert response.headers.get(name) == value, (kind, name)
        assert policy(response) == expected_policy(object_store), kind
        assert "Strict-Transport-Security" not in response.headers, kind


def test_an_error_keeps_its_own_headers(user):
    response = user.client.delete("/healthz")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_uploaded_photos_come_from_an_origin_the_policy_allows(app, user, object_store):
    assert user.upload_photo(pictures.jpeg()).status_code == 302
    run_queued_jobs(app)
    page = user.get("/mypage")
    src = re.search(r'<img id="profile-image" src="([^"]+)"', page.get_data(as_text=True))[1]
    assert src.startswith(object_store.public_url)
    assert origin_of(src) in policy(page)["img-src"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://cdn.example.com/photos", "https://cdn.example.com"),
        ("https://pub-1a2b.r2.dev", "https://pub-1a2b.r2.dev"),
        ("http://127.0.0.1:9000/memo-local", "http://127.0.0.1:9000"),
        ("HTTPS://Memo.S3.eu-west-1.amazonaws.com", "https://memo.s3.eu-west-1.amazonaws.com"),
        ("", ""),
    ],
)
def test_the_image_origin_is_the_scheme_host_and_port_of_the_public_url(url, origin):
    assert origin_of(url) == origin


def test_without_a_public_url_images_come_from_the_buckets_own_origin(app):
    settings = {"S3_PUBLIC_URL": "https://memo-photos.s3.eu-west-1.amazonaws.com"}
    application = create_app("config.TestingConfig", settings)
    response = application.test_client().get("/healthz")
    assert policy(response)["img-src"] == [
        "'self'",
        "https://memo-photos.s3.eu-west-1.amazonaws.com",
    ]


# --- Pages a strict policy does not break ---------------------------------------------------


class InlineCode(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block in a page."""

    def __init__(self):
        super().__init__()
        self.found = []
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.found += [f"<{tag} {name}=...>" for name in attributes if name.startswith("on")]
        if "style" in attributes:
            self.found.append(f"<{tag} style=...>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            self.scripts.append(attributes.get("src"))
            if not attributes.get("src"):
                self.found.append("inline <script>")
        for name in ("href", "src", "action"):
            if (attributes.get(name) or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")


@pytest.fixture
def every_page(app, user):
    """Return every page a user can see, with a note and a word count to show."""
    user.create_note("Plans", "walk the dog, then walk the dog again")
    with app.app_context():
        owner = db.session.scalar(select(User))
        count = {"total": 2, "distinct": 1, "top": [["dog", 2]]}
        db.session.add(
            WordCount(
                url="https://example.com/",
                all_words=count,
                without_stop_words=count,
                user_id=owner.id,
            )
        )
        db.session.commit()
    signed_in = [
        "/", "/notes/new", "/notes/1", "/notes/1/edit", "/notes/1/wordcount", "/mypage",
        "/wordcount", "/wordcount/1", "/notes/404",
    ]  # fmt: skip
    pages = {path: user.get(path) for path in signed_in}
    anonymous = Browser(app.test_client())
    pages.update({path: anonymous.get(path) for path in ["/auth/login", "/auth/signup"]})
    return pages


def test_no_page_has_inline_script_or_style_the_policy_would_block(every_page):
    for path, response in every_page.items():
        assert response.mimetype == "text/html", path
        parser = InlineCode()
        parser.feed(response.get_data(as_text=True))
        assert parser.found == [], path
        # Every page keeps (and on sign-out clears) note drafts and the offline outbox, and
        # registers the service worker; the list and a note tick task items in place; a note's
        # page adds the attachment form's script, a file as well, the share sheet's and the
        # reminders' push; sign-up reads the browser's time zone, my page makes the time zones
        # searchable, refuses an import over the limit before it uploads and names the file it
        # sends; the note form has the editor's buttons; sign-in offers a passkey.
        before = {
            "/auth/login": ["/static/passkeys.js"],
            "/auth/signup": ["/static/timezone.js"],
            "/mypage": [
                "/static/zone-filter.js",
                "/static/file-size.js",
                "/static/import-upload.js",
            ],
            "/": ["/static/tasks.js"],
            "/notes/1": ["/static/share.js", "/static/tasks.js", "/static/push.js"],
            "/notes/new": ["/static/editor.js"],
            "/notes/1/edit": ["/static/editor.js"],
        }
        before = before.get(path, [])
        extra = ["/static/upload.js"] if path == "/notes/1" else []
        every = ["/static/confirm.js", "/static/drafts.js", "/static/pocket.js"]
        assert parser.scripts == [*before, *every, *extra], path


def test_deleting_a_note_still_asks_first_through_the_static_script(user):
    user.create_note()
    page = user.get("/notes/1").get_data(as_text=True)
    assert re.search(
        r'<form[^>]*action="/notes/1/delete"[^>]*data-confirm="Move this note to the trash\?"', page
    )
    script = user.get("/static/confirm.js")
    assert script.mimetype == "text/javascript"  # nosniff runs scripts of script types only
    assert "window.confirm(message)" in script.get_data(as_text=True)


# --- Behind the HTTPS router, and on a plain-HTTP laptop -------------------------------------


@pytest.fixture
def development_app(app, postgres, monkeypatch):
    """The app under DevelopmentConfig on the test database, as `scripts/run` serves it."""
    monkeypatch.setenv("DATABASE_URL", postgres.main_url)
    application = create_app("config.DevelopmentConfig")
    yield application
    with application.app_context():
        db.engine.dispose()


def cookies_set(response):
    """Return the cookies a response sets, as {name: Morsel}."""
    jar = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        jar.load(header)
    return dict(jar)


def test_behind_the_router_sessions_are_secure_cookies_and_hsts_is_sent(production_app, count_rows):
    browser = RouterBrowser(production_app.test_client())
    page = browser.get("/auth/signup")
    hsts = page.headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains"
    assert browser.signup().status_code == 302
    browser.logout()
    response = browser.login(remember="y")
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"] == hsts
    cookies = cookies_set(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for name in ("session", "remember_token"):
        assert cookies[name]["secure"], name
        assert cookies[name]["httponly"], name
        assert cookies[name]["samesite"] == "Lax", name
    assert browser.get("/").status_code == 200
    assert count_rows("login_session") == 1


def test_behind_the_router_a_post_from_another_site_is_refused(production_app, count_rows):
    browser = RouterBrowser(production_app.test_client())
    browser.get("/auth/signup")
    data = {"email": "ann@example.com", "nickname": "ann", "password": PASSWORD}
    data |= {"password_confirm": PASSWORD, "csrf_token": browser.token}
    headers = {**browser.headers, "Referer": "https://evil.example/form"}
    response = browser.client.post("/auth/signup", data=data, headers=headers, base_url=DYNO)
    assert response.status_code == 400
    assert "The referrer does not match the host." in response.get_data(as_text=True)
    assert count_rows("user") == 0


def test_plain_http_to_production_gets_no_hsts(production_app):
    response = production_app.test_client().get("/auth/login", base_url=DYNO)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_development_over_plain_http_sets_cookies_without_secure(development_app):
    browser = Browser(development_app.test_client())
    assert browser.signup().status_code == 302
    browser.logout()
    response = browser.login(remember="y")
    assert response.status_code == 302
    assert "Strict-Transport-Security" not in response.headers
    cookies = cookies_set(response)
    for name in ("session", "remember_token"):
        assert not cookies[name]["secure"], name
        assert cookies[name]["httponly"], name
        assert cookies[name]["samesite"] == "Lax", name
    assert browser.get("/").status_code == 200
