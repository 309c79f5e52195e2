"""One stdout line per request, with method, path, status, duration and request id."""

import io
import json
import logging
import re
import time
from urllib.parse import unquote

import pytest

from app.requestlog import FLUSH_SECONDS


def test_each_request_is_one_line_with_its_id(client, stdout_log):
    response = client.get("/healthz", headers={"X-Request-Id": "router-abc-123"})
    assert response.headers["X-Request-Id"] == "router-abc-123"
    lines = stdout_log.getvalue().splitlines()
    assert len(lines) == 1
    fields = logfmt_fields(lines[0])
    assert fields["at"] == "INFO" and fields["logger"] == "memo.request"
    assert fields["request_id"] == "router-abc-123"
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/healthz", "200")
    assert float(fields["duration_ms"]) >= 0


def test_a_missing_or_unsafe_request_id_is_replaced(client, stdout_log):
    generated = client.get("/healthz").headers["X-Request-Id"]
    for hostile in ("forged id=1 status=500", "x" * 500):
        response = client.get("/healthz", headers={"X-Request-Id": hostile})
        assert len(response.headers["X-Request-Id"]) == 32
        assert hostile not in stdout_log.getvalue()
    assert len(generated) == 32


def test_errors_are_logged_with_status(client, stdout_log):
    client.get("/no/such/page")
    assert "path=/no/such/page status=404" in stdout_log.getvalue()


FIELDS = {"time", "at", "logger", "msg", "method", "path", "status", "duration_ms", "request_id"}


@pytest.mark.parametrize(
    "path",
    [
        "/x%0A2026-11-23 INFO memo.request [-] method=GET path=/forged status=200",
        "/x%0D%0Aforged",
        "/x%00%1B[31mred%1B[0m",
        "/x%C2%85%E2%80%A8forged",  # NEL and LINE SEPARATOR, which some viewers break at
        '/x"%20status=200%20path=/forged',
    ],
)
def test_a_path_cannot_forge_a_line_or_a_field(client, stdout_log, path):
    client.get(path)
    lines = stdout_log.getvalue().split("\n")
    assert len(lines) == 2 and lines[1] == "", lines  # one line, then the final newline
    assert lines[0].isprintable(), lines[0]
    fields = logfmt_fields(lines[0])
    assert set(fields) == FIELDS
    assert fields["path"] == unquote(path) and fields["status"] == "404"


def test_each_line_is_logfmt_that_parses_back(client, stdout_log):
    client.get("/no such\\page")
    fields = logfmt_fields(stdout_log.getvalue().strip())
    assert fields["at"] == "INFO" and fields["logger"] == "memo.request"
    assert fields["path"] == "/no such\\page" and fields["status"] == "404"


def logfmt_fields(line):
    """Parse one logfmt line (quoted values are JSON strings) into a dict."""
    pattern = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')
    fields = {}
    for key, value in pattern.findall(line):
        if value.startswith('"'):
            value = json.loads(value)
        fields[key] = value
    return fields


def test_a_requests_line_is_written_within_the_flush_interval_without_a_write_of_its_own(client):
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "memo", False))
    stream = io.StringIO()
    original = handler.setStream(stream)
    try:
        client.get("/healthz", headers={"X-Request-Id": "waits-1"})
        assert "waits-1" not in stream.getvalue()  # left for the process's writer
        client.get("/healthz", headers={"X-Request-Id": "waits-2"})
        logging.getLogger("memo.errors").warning("something to see at once")
        written = stream.getvalue().splitlines()  # a warning writes what waits before itself
        assert ["waits-1" in written[0], "waits-2" in written[1]] == [True, True]
        assert "something to see at once" in written[2]
        client.get("/healthz", headers={"X-Request-Id": "waits-3"})
        deadline = time.monotonic() + 5 * FLUSH_SECONDS
        while "waits-3" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(FLUSH_SECONDS / 4)
        assert "waits-3" in stream.getvalue()
    finally:
        handler.setStream(original)
