"""Errors reported to Sentry with SENTRY_DSN: a failing page and a failing job each send one
event with the request id, and none of what a person wrote or a secret; unset, the web never
loads sentry_sdk.

Events are caught by a capturing transport (sentry-sdk's `transport=` option): the SDK
builds and scrubs them exactly as it would for Sentry's servers.
"""

import json
import os
import subprocess
import sys

import pytest
import sentry_sdk
from flask import g, request
from sentry_sdk.transport import Transport
from sqlalchemy import select

import config
from app import create_app, error_reports, jobs
from app.accounts import tasks as accounts_tasks
from app.extensions import csrf, db
from app.models import User
from config import ConfigError
from devenv import ROOT
from tests.workers import run_queued_jobs

DSN = "https://public@errors.example.com/42"
# What a person wrote or a secret, sent with the failing request or job: never in an event.
SECRETS = ("Secret plans", "my note's words", "hunter22", "tok-s3cret", "cookie-value", "ann@")


class Capturing(Transport):
    """Keeps every event the SDK would have sent."""

    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        self.events += [item.payload.json for item in envelope.items if item.type == "event"]


@pytest.fixture
def reported(app):
    """An app with SENTRY_DSN set whose events go to a capturing transport, and a failing page."""
    transport = Capturing()
    application = create_app(
        "config.TestingConfig",
        # A failing page is answered 500, as in production, not raised into the test.
        {"SENTRY_DSN": DSN, "SENTRY_TRANSPORT": transport, "PROPAGATE_EXCEPTIONS": False},
    )

    @application.post("/test/failing")
    @csrf.exempt
    def failing():
        words = request.form["content"]  # a local variable holding a note's text
        raise RuntimeError(f"the page broke after reading {len(words)} characters")

    yield application, transport
    sentry_sdk.init()  # no DSN: nothing is reported by the tests that follow
    with application.app_context():
        db.engine.dispose()


def leaked(event):
    """Return the secrets found anywhere in an event."""
    text = json.dumps(event)
    return [secret for secret in SECRETS if secret in text]


def test_a_failing_page_sends_one_event_with_its_request_id_and_nothing_written(reported):
    application, transport = reported
    client = application.test_client()
    client.set_cookie("session", "cookie-value")
    response = client.post(
        "/test/failing?token=tok-s3cret&q=Secret+plans",
        data={"title": "Secret plans", "content": "my note's words", "password": "hunter22"},
        headers={"X-Request-Id": "req-page-1", "Authorization": "Bearer tok-s3cret"},
    )
    assert response.status_code == 500
    [event] = transport.events
    assert event["tags"]["request_id"] == "req-page-1"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["url"].endswith("/test/failing")
    assert leaked(event) == []


def test_a_failing_job_sends_one_event_with_its_task_id_and_request_id(reported, user):
    application, transport = reported
    with application.test_request_context():
        g.request_id = "req-job-1"
        user_id = db.session.scalar(select(User.id))
        # A mail of a kind that does not exist: a KeyError, which is never retried.
        job_id = jobs.defer(
            accounts_tasks.send_account_mail,
            kind="no-such-mail",
            user_id=user_id,
            to="ann@example.com",
        )
        db.session.commit()
    run_queued_jobs(application)
    [event] = transport.events
    assert event["tags"]["request_id"] == "req-job-1"
    assert event["tags"]["task"] == "send_account_mail"
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    assert event["tags"]["job_id"] == str(job_id)
    assert leaked(event) == []


def test_sql_parameters_refused_rows_and_the_command_line_are_cut_from_an_event():
    event = {
        # sentry-sdk's argv integration: `flask restore-drill --into URL` names a password.
        "extra": {"sys.argv": ["flask", "restore-drill", "--into", "postgres://u:hunter22@h/d"]},
        "exception": {
            "values": [
                {
                    "type": "IntegrityError",
                    "value": '(psycopg2.errors.UniqueViolation) duplicate key "email"\n'
                    "DETAIL:  Key (email)=(ann@example.com) already exists.\n\n"
                    "[SQL: INSERT INTO note (title) VALUES (%(title)s)]\n"
                    "[parameters: {'title': 'Secret plans'}]",
                }
            ]
        },
    }
    event = error_reports.scrub(event, {})
    value = event["exception"]["values"][0]["value"]
    assert leaked(event) == []
    assert "DETAIL: [hidden]" in value and "[parameters: [hidden]]" in value
    assert "INSERT INTO note" in value  # the statement itself stays: it helps, and holds none


def test_a_malformed_sentry_dsn_stops_the_process_with_one_line():
    with pytest.raises(ConfigError, match="SENTRY_DSN must be a Sentry DSN"):
        config.TestingConfig({"TEST_DATABASE_URL": "postgresql://x/y", "SENTRY_DSN": "sentry.io"})


# A web worker as gunicorn loads it, after serving a few pages: does it hold sentry_sdk?
WEB_PROCESS = """
import sys, wsgi
client = wsgi.app.test_client()
for path in ("/healthz", "/auth/login"):
    assert client.get(path).status_code < 500, path
print("sentry_sdk loaded:", any(name.split(".")[0] == "sentry_sdk" for name in sys.modules))
"""


def web_loads_sentry(**environ):
    environment = {name: v for name, v in os.environ.items() if name != "SENTRY_DSN"}
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS],
        cwd=ROOT,
        env={**environment, "APP_SETTINGS": "config.TestingConfig", **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # The app logs to stdout too (and with sentry_sdk, its exit): find the line printed.
    [line] = [line for line in done.stdout.splitlines() if line.startswith("sentry_sdk loaded:")]
    return line.endswith("True")


def test_with_sentry_dsn_the_web_loads_sentry_sdk_and_only_then(app):
    """tests/test_layout.py's web process, without SENTRY_DSN, holds no sentry_sdk module."""
    assert web_loads_sentry(SENTRY_DSN=DSN) is True
