"""The JSON API in tests: an account's token, a client that sends it (and nothing else), and
the fixtures `ann_api` and `bob_api` (registered in tests/conftest.py's `pytest_plugins`), the
heavy-read slots held as reads still running would, and the SQL statements a block runs."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.features.api.reads import API_READ_LOCK_CLASS
from app.features.tokens.service import make_token
from app.models import User
from devenv.uploads import send_to_store
from tests.attaching import PDF


def token_for(app, email="ann@example.com", scope="write", days=30):
    """Make a token of the account with this email; return its secret."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _, secret = make_token(user, f"{scope} token", scope, days)
        db.session.commit()
        return secret


class ApiClient:
    """A script using the API with one token: a fresh test client, so no cookie rides along."""

    def __init__(self, app, secret):
        self.client = app.test_client(use_cookies=False)
        self.secret = secret

    def call(self, method, path, json=None, headers=None, **options):
        sent = {"Authorization": f"Bearer {self.secret}", **(headers or {})}
        return self.client.open("/api/v1" + path, method=method, json=json, headers=sent, **options)

    def get(self, path, **options):
        return self.call("GET", path, **options)

    def post(self, path, json=None, **options):
        return self.call("POST", path, json=json, **options)

    def patch(self, path, json=None, **options):
        return self.call("PATCH", path, json=json, **options)

    def put(self, path, json=None, **options):
        return self.call("PUT", path, json=json, **options)

    def delete(self, path, **options):
        return self.call("DELETE", path, **options)

    def new_note(self, title="Plans", content="- [ ] milk\n- [ ] eggs #shop", **fields):
        """Create a note; return its JSON."""
        response = self.post("/notes", {"title": title, "content": content, **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def ann_api(app, user):
    """Ann's script: the API with a write token of hers."""
    return ApiClient(app, token_for(app))


@pytest.fixture
def bob_api(app, other_user):
    """Bob's script: the API with a write token of his."""
    return ApiClient(app, token_for(app, "bob@example.com"))


def is_problem(response, status, name):
    """Return whether the response is the problem+json `name` with `status`."""
    body = response.get_json()
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and body["type"] == f"/api/problems/{name}"
        and body["status"] == status
        and body["title"]
        and body["detail"]
    )


def attached(client, note_id, data=PDF, name="plan.pdf"):
    """Attach a file through the API: start, send to the store, confirm; return its JSON."""
    started = client.post(f"/notes/{note_id}/attachments", {"name": name, "size": len(data)})
    assert started.status_code == 201, started.get_json()
    upload = started.get_json()
    sent = send_to_store(upload["url"], upload["fields"], data, name)
    assert sent.status_code == 201
    confirmed = client.post(f"/notes/{note_id}/attachments/{upload['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.get_json()
    return confirmed.get_json()


def hold_slots(app, user_id, slots):
    """Hold these of the account's heavy-read slots in a transaction of another connection,
    as reads still running would; return the connection (close it to let go)."""
    with app.app_context():
        connection = db.engine.connect()
    for slot in slots:
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:class_id, :user_id)"),
            {"class_id": API_READ_LOCK_CLASS + slot, "user_id": user_id},
        )
    return connection


@contextmanager
def statements_run(app):
    """Collect the SQL statements run inside the block."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
