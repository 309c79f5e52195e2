"""Logs to stdout in logfmt: one line per request, and one per error (its traceback escaped).

Every value is written bare only when it is plain printable text; anything else is quoted
as a JSON string, so a client's path, say, can add neither a line nor a field, nor reach a
terminal as a control character (NUL, ESC, NEL, a line separator).
"""

import json
import logging
import os
import re
import sys
import threading
import time
import uuid

from flask import g, has_app_context, request
from logfmter import Logfmter

from app.secret_paths import masked_path

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
QUOTED = re.compile(r'[ "=\\]')  # a value holding one of these is quoted
logger = logging.getLogger("memo.request")
# A request's line waits at most this long to be written, with the others of that moment.
FLUSH_SECONDS = 0.2
# Bytes a pipe takes in one write without another process's bytes in the middle (POSIX's
# PIPE_BUF): the web's processes share the platform's stdout.
ATOMIC_WRITE = 4096


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
        if value and value.isprintable() and not QUOTED.search(value):
            return value
        quoted = json.dumps(value, ensure_ascii=False)
        # json.dumps leaves DEL, C1 controls and Unicode line separators as they are.
        return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in quoted)


class RequestLinesHandler(logging.StreamHandler):
    """Write each line as a StreamHandler does, but the requests' (INFO of memo.request): those
    wait, at most FLUSH_SECONDS, for a thread of the process to write them together, so that a
    request pays no write to the pipe of its own (issue #89). Any other line writes those
    waiting first, then itself, at once. Lines are written whole, in chunks a pipe takes
    without interleaving another process's."""

    def __init__(self, stream):
        super().__init__(stream)
        self.waiting = []
        self.writer_pid = None
        # A forked child (a gunicorn worker, the word counter's) writes none of its parent's.
        os.register_at_fork(after_in_child=self.waiting.clear)

    def emit(self, record):
        if record.name != logger.name or record.levelno > logging.INFO:
            self.flush()
            super().emit(record)
            return
        try:
            self.waiting.append(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
        if self.writer_pid != os.getpid():  # once a process: a forked worker starts its own
            self.writer_pid = os.getpid()
            threading.Thread(target=self.write_every, daemon=True, name="log-lines").start()

    def flush(self):
        """Write the lines waiting, then flush the stream."""
        with self.lock:
            lines = self.waiting[:]
            self.waiting.clear()
            chunk, size = [], 0
            for line in lines:
                length = len(line.encode())
                if chunk and size + length > ATOMIC_WRITE:
                    self.stream.write("".join(chunk))
                    self.stream.flush()
                    chunk, size = [], 0
                chunk.append(line)
                size += length
            if chunk:
                self.stream.write("".join(chunk))
            super().flush()

    def write_every(self):
        while True:
            threading.Event().wait(FLUSH_SECONDS)
            try:
                self.flush()
            except (OSError, ValueError):  # stdout closed: the lines are lost, as logging's
                continue


def configure_logging(level):
    """Send the app's logs to stdout in one line each, once per process."""
    root = logging.getLogger()
    if any(getattr(handler, "memo", False) for handler in root.handlers):
        return
    handler = RequestLinesHandler(sys.stdout)
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
        # A token in the path (a mailed link, a share link) is kept out like a password.
        rule = request.url_rule  # None when no route matched: the path is looked at again
        path = masked_path(request.path, rule, request.view_args, request.method)
        fields = {"method": request.method, "path": path, "status": response.status_code}
        logger.info("request", extra=fields | {"duration_ms": round(duration_ms, 1)})
        return response
