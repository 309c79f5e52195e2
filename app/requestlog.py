"""Logs to stdout in logfmt: one line per request, and one per error (its traceback escaped).

Every value is written bare only when it is plain printable text; anything else is quoted
as a JSON string, so a client's path, say, can add neither a line nor a field, nor reach a
terminal as a control character (NUL, ESC, NEL, a line separator).
"""

import json
import logging
import re
import sys
import time
import uuid

from flask import g, has_app_context, request
from logfmter import Logfmter

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
# A mailed link's token opens an account: it is kept out of the log like a password.
MAILED_LINK = re.compile(r"^(/auth/(?:verify|reset|secure|remove)/)[^/]+")
# So is a private feed's token (app/features/webhooks/feeds.py): it reads the account's notes.
FEED_LINK = re.compile(r"^(/feeds/)[^/]+")
logger = logging.getLogger("memo.request")


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request it belongs to, or that deferred its job."""

    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_app_context() else "-"
        return True


class JobArgumentsFilter(logging.Filter):
    """Keep jobs' arguments out of the log: procrastinate writes them in its lines (the call
    string "send_account_mail[7](kind='verify', address='ann@...', ...)" and the `job` field),
    and a mail job's may hold an address, a nickname or a password hash. Only their names stay.
    """

    def filter(self, record):
        job = getattr(record, "job", None)
        if isinstance(job, dict) and isinstance(job.get("task_kwargs"), dict):
            names = ", ".join(f"{name}=…" for name in job["task_kwargs"])
            hidden = f"{job.get('task_name')}[{job.get('id')}]({names})"
            if isinstance(record.msg, str) and job.get("call_string"):
                record.msg = record.msg.replace(job["call_string"], hidden)
            record.job = {**job, "task_kwargs": dict.fromkeys(job["task_kwargs"], "…")}
            record.job["call_string"] = hidden
        return True


class LogfmtFormatter(Logfmter):
    """logfmt (as Logfmter writes it) whose quoted values escape every unprintable character."""

    @classmethod
    def format_string(cls, value):
        if value and value.isprintable() and not any(c in value for c in ' "=\\'):
            return value
        quoted = json.dumps(value, ensure_ascii=False)
        # json.dumps leaves DEL, C1 controls and Unicode line separators as they are.
        return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in quoted)


def configure_logging(level):
    """Send the app's logs to stdout in one line each, once per process."""
    root = logging.getLogger()
    if any(getattr(handler, "memo", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.memo = True
    handler.addFilter(RequestIdFilter())
    handler.addFilter(JobArgumentsFilter())
    handler.setFormatter(
        LogfmtFormatter(
            keys=["time", "at", "logger", "request_id"],
            mapping={"time": "asctime", "at": "levelname", "logger": "name"},
        )
    )
    root.addHandler(handler)
    root.setLevel(level)


def incoming_request_id():
    """Return the router's X-Request-Id when it is sane, else a new id."""
    given = request.headers.get("X-Request-Id", "")
    return given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex


def init_app(app):
    """Log every request with its method, path, status, duration and id."""
    configure_logging(app.config["LOG_LEVEL"])

    @app.before_request
    def start_timer():
        g.request_id = incoming_request_id()
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        started = g.get("started")
        duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        response.headers["X-Request-Id"] = g.get("request_id", "-")
        path = FEED_LINK.sub(r"\1<token>", MAILED_LINK.sub(r"\1<token>", request.path))
        fields = {"method": request.method, "path": path, "status": response.status_code}
        logger.info("request", extra=fields | {"duration_ms": round(duration_ms, 1)})
        return response
