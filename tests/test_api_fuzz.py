"""Schemathesis fuzzes the live API (gunicorn behind the front, as the Procfile runs it) from its
own document, with a token of each scope: no 5xx, every answer as the document says, and with
a read token no write gets through.

Two bodies no schema makes are sent by hand: JSON nested deeper than Python's parser goes, and
bodies within the front's budget but refused by the API (over its own, or before it reads them:
no token, a read token). The app reads a body before refusing it: gunicorn would close the
connection of a body left unread, and the front would answer 502 instead.

Bounded for CI: 8 examples an operation, derandomized (the same cases each run), so the
module stays well under a minute and a half on 2 cores; `API_FUZZ_EXAMPLES` raises it.
"""

import os
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Note, User
from app.requestlog import FLUSH_SECONDS
from tests.apiclients import token_for

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))  # an operation, each scope and mode
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
READS = ("GET", "HEAD", "OPTIONS")


@pytest.fixture(scope="module")
def api(served):
    """The live server's document, as Schemathesis reads it."""
    return schemathesis.openapi.from_url(served.url + "/api/v1/openapi.json")


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, secret, mode, examine, **fixed):
    """Run EXAMPLES cases of one operation in `mode` with the token; `examine` each answer.

    `fixed`: parts of the request to keep (`path_parameters={"note_id": 1}`, say)."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case):
        response = case.call(headers={"Authorization": f"Bearer {secret}"}, timeout=10)
        examine(case, response)

    run()


def counts(app, email):
    """Return how many notes and attachments the account has, and its notes' versions."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        notes = db.session.execute(
            select(Note.id, Note.version, Note.pinned, Note.deleted_at).where(
                Note.user_id == user_id
            )
        ).all()
        files = db.session.scalar(select(func.count()).where(Attachment.user_id == user_id))
        return sorted(notes), files


def seed(app, secret, served):
    """Give the account a note with a task and a tag, so reads have something to answer."""
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"title": "Fuzzed", "content": "- [ ] one #tag"}
    response = requests.post(f"{served.url}/api/v1/notes", json=body, headers=headers, timeout=10)
    assert response.status_code == 201
    return response.json()["id"]


def validate(case, response):
    case.validate_response(response, checks=CHECKS)


def test_a_write_token_gets_no_5xx_and_every_answer_is_as_documented(app, user, api, settled):
    secret = token_for(app)
    note_id = seed(app, secret, settled)
    for operation in operations(api):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, secret, mode, validate)
        if "{note_id}" in operation.path:  # the account's own note, in any state it gets to
            own = {"note_id": note_id}
            fuzz(operation, secret, GenerationMode.POSITIVE, validate, path_parameters=own)
    time.sleep(2 * FLUSH_SECONDS)  # the last request lines are written within FLUSH_SECONDS
    assert secret not in settled.log()


def test_a_read_token_changes_nothing_whatever_it_sends(app, user, api, settled):
    writer = token_for(app)
    seed(app, writer, settled)
    before = counts(app, "ann@example.com")
    reader = token_for(app, scope="read")

    def examine(case, response):
        case.validate_response(response, checks=CHECKS)
        if case.method.upper() not in READS:
            assert response.status_code in (401, 403), (case.method, case.path)

    for operation in operations(api):
        fuzz(operation, reader, GenerationMode.POSITIVE, examine)
    assert counts(app, "ann@example.com") == before
    time.sleep(2 * FLUSH_SECONDS)
    assert reader not in settled.log()


BIG = '{"title": "x", "content": "' + "a" * 500_000 + '"}'  # within the front's 512 KiB


@pytest.mark.parametrize(
    ("body", "scope", "status", "name"),
    [
        ("[" * 100_000 + "]" * 100_000, "write", 400, "bad-request"),  # past Python's parser
        (BIG, "write", 413, "too-large"),
        (BIG, None, 401, "unauthorized"),
        (BIG, "read", 403, "insufficient-scope"),
    ],
    ids=["nested", "too-large", "no-token", "read-token"],
)
def test_bodies_no_schema_makes_are_problems_through_the_front(
    app, user, settled, body, scope, status, name
):
    headers = {"Content-Type": "application/json"}
    if scope:
        headers["Authorization"] = f"Bearer {token_for(app, scope=scope)}"
    response = requests.post(f"{settled.url}/api/v1/notes", data=body, headers=headers, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"/api/problems/{name}"
