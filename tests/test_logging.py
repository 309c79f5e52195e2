"""One stdout line per request, with method, path, status, duration and request id."""

import io
import logging

import pytest


@pytest.fixture
def stdout_log(app):
    """Return a buffer that receives what the app's stdout log handler writes."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "memo", False))
    buffer = io.StringIO()
    original = handler.setStream(buffer)
    yield buffer
    handler.setStream(original)


def test_each_request_is_one_line_with_its_id(client, stdout_log):
    response = client.get("/healthz", headers={"X-Request-Id": "router-abc-123"})
    assert response.headers["X-Request-Id"] == "router-abc-123"
    lines = stdout_log.getvalue().splitlines()
    assert len(lines) == 1
    assert "INFO memo.request [router-abc-123] method=GET path=/healthz status=200" in lines[0]
    assert "duration_ms=" in lines[0]


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
