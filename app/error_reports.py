"""Errors sent to Sentry (sentry-sdk) when SENTRY_DSN is set: the web's and the worker's.

create_app imports this module only when SENTRY_DSN is set, so without it sentry_sdk is never
loaded (the web's memory budget stands). An event carries the request id (the router's, or
the one of the request that queued the job) and, for a job, its task and id; it never
carries what a person wrote or a secret: `scrub` (the `before_send`) drops the request's
body, cookies, query string and every header but a few, cuts the SQL parameters out of
exception messages, and the SDK is told to keep local variables and breadcrumbs out.
"""

import re
from urllib.parse import urlsplit, urlunsplit

import sentry_sdk
from flask import g, has_app_context
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from app.secret_paths import masked_path

# Headers that say nothing about the person or their secrets.
KEPT_HEADERS = {"accept", "accept-language", "content-length", "content-type", "user-agent"}
# SQLAlchemy writes a failed statement's parameters (a note's text, a password's hash)
# into the exception's message.
SQL_PARAMETERS = re.compile(r"\[parameters: .*", re.DOTALL)
# PostgreSQL's DETAIL line repeats the values of the row it refused (`Key (email)=(...)`).
DETAIL = re.compile(r"^DETAIL: .*$", re.MULTILINE)
HIDDEN = "[hidden]"
# What sentry-sdk 2.75 may collect by itself: only the request's headers named above. No
# user or IP address, cookies, bodies (form fields), query strings, SQL values, job
# arguments, and no frame's local variables (they hold note text and passwords).
COLLECTED = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "allowlist", "terms": sorted(KEPT_HEADERS)}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
}


def init_app(app):
    """Send the app's unhandled errors (web requests, jobs) to SENTRY_DSN."""
    # The release is sentry-sdk's own guess: SENTRY_RELEASE, else the platform's commit.
    transport = app.config["SENTRY_TRANSPORT"]  # the tests' capturing one; None: Sentry's
    sentry_sdk.init(
        dsn=app.config["SENTRY_DSN"],
        environment=app.config["ENVIRONMENT"],
        data_collection=COLLECTED,
        max_breadcrumbs=0,  # log lines (procrastinate's hold job arguments) stay out
        traces_sample_rate=0,  # errors only: no performance data
        before_send=scrub,
        integrations=[FlaskIntegration(), LoggingIntegration(event_level=None)],
        **({"transport": transport} if transport else {}),
    )
    app.extensions["error_reports"] = report_job_failure


def report_job_failure(error, job):
    """Send a job's error, with its task, its id and the request id it was queued by."""
    sentry_sdk.capture_exception(error, tags={"task": job.task_name, "job_id": str(job.id)})


def scrub(event, hint):
    """Return the event with the request id added and what a person wrote or a secret cut."""
    if has_app_context() and g.get("request_id"):
        event.setdefault("tags", {})["request_id"] = g.request_id
    request = event.get("request")
    if request:
        event["request"] = scrubbed_request(request)
    for exception in event.get("exception", {}).get("values", []):
        if isinstance(exception.get("value"), str):
            value = SQL_PARAMETERS.sub(f"[parameters: {HIDDEN}]", exception["value"])
            exception["value"] = DETAIL.sub(f"DETAIL: {HIDDEN}", value)
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    for field in ("extra", "breadcrumbs", "user"):
        event.pop(field, None)
    return event


def scrubbed_request(request):
    """Return the request's method, its URL without the secret of a marked route (a mailed
    link's token, a share link's), and safe headers."""
    headers = request.get("headers") or {}
    url = urlsplit(request.get("url") or "")
    path = masked_path(url.path, method=request.get("method") or "GET")
    return {
        "method": request.get("method"),
        "url": urlunsplit((url.scheme, url.netloc, path, "", "")),
        "headers": {name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS},
    }
