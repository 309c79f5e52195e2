"""Logs to stdout: one line per request, and errors with their tracebacks."""

import logging
import re
import sys
import time
import uuid

from flask import g, has_app_context, request

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
logger = logging.getLogger("memo.request")


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request it belongs to, or that deferred its job."""

    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_app_context() else "-"
        return True


def configure_logging(level):
    """Send the app's logs to stdout in one line each, once per process."""
    root = logging.getLogger()
    if any(getattr(handler, "memo", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.memo = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)


def incoming_request_id():
    """Return the router's X-Request-Id when it is sane, else a new id."""
    given = request.headers.get("X-Request-Id", "")
    return given if REQUEST_ID_PATTERN.match(given) else uuid.uuid4().hex


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
        logger.info(
            "method=%s path=%s status=%s duration_ms=%.1f",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
        )
        return response
