"""No GET writes: a walk through every page a user can reach leaves the database as it was.

The one exception is the store's redirect back to `/notes/<id>/attachments/confirm`, which
confirms an upload Memo signed (idempotent, bound to the signed key): the walk never follows it.
"""

import re
from html import unescape

import pytest
from sqlalchemy import event, text

from app.extensions import db
from devenv import pictures
from devenv.uploads import Attacher
from tests.workers import run_queued_jobs

LINK = re.compile(r'href="(/[^"#]*)"')
ALLOWED_TO_WRITE = {"attachments.confirm", "static"}
ARGUMENTS = {
    "note_id": 1,
    "version_id": 1,
    "word_count_id": 1,
    "attachment_id": 1,
    "token": "no-such-link",
    "problem": "not-found",
    "rename_id": 1,
    "share": "0c6f6a4e-52d4-4d8e-9a51-7b1f3c2d9e10",
}


def database_state(app):
    """Return a fingerprint of every table's rows (their count and an md5 of their text)."""
    with app.app_context():
        tables = db.session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).all()
        return {
            table: db.session.execute(
                text(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    f' FROM "{table}" t'
                )
            ).one()
            for table in tables
        }


class Commits:
    """Counts the transactions the app's engine commits."""

    def __init__(self):
        self.count = 0

    def __call__(self, connection):
        self.count += 1


@pytest.fixture
def commits(app):
    """Count every commit on the app's engine while the test runs."""
    counter = Commits()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", counter)
    yield counter
    event.remove(engine, "commit", counter)


def get_routes(app):
    """Return the endpoint and a URL of every GET route that must not write."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in ALLOWED_TO_WRITE:
            routes[rule.endpoint] = rule.build({name: ARGUMENTS[name] for name in rule.arguments})[
                1
            ]
    return routes


def links(page):
    """Return the same-site paths a page links to."""
    return {unescape(path) for path in LINK.findall(page) if not path.startswith("/static/")}


def walk(app, client, start):
    """GET every page reachable from `start` (and every GET route); return what was visited."""
    adapter = app.url_map.bind("localhost")
    seen, endpoints, queue = set(), set(), list(start)
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        endpoint, _ = adapter.match(path.split("?")[0], method="GET")
        if endpoint in ALLOWED_TO_WRITE:
            continue
        endpoints.add(endpoint)
        for accept in ("text/html", "application/json"):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code < 500, path
            body = response.get_data(as_text=True)  # a streamed body runs as it is read
            if response.mimetype == "text/html":
                queue.extend(links(body) - seen)
    return endpoints


@pytest.fixture
def ann_with_everything(app, user, object_store):
    """ann, signed in, with two notes, an attachment, a word count queued and a photo."""
    user.create_note("Second note", "more words")
    Attacher(user).attach(1, pictures.png(), "a.png")
    user.post("/wordcount", {"url": "http://127.0.0.1:9/page"})
    user.upload_photo(pictures.jpeg())
    run_queued_jobs(app)
    return user


def test_no_get_request_writes_to_the_database(app, ann_with_everything, commits):
    before = database_state(app)
    commits.count = 0
    routes = get_routes(app)
    visited = walk(app, ann_with_everything.client, ["/", *routes.values()])
    anonymous = walk(app, app.test_client(), ["/", *routes.values()])
    assert commits.count == 0
    assert database_state(app) == before
    assert visited == set(routes)  # the walk met every GET route, signed in
    assert {"auth.login", "auth.signup", "health.healthz"} <= anonymous
