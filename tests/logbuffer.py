"""The fixture `stdout_log`: what the app's stdout log handler writes, read as a person would
read stdout: a request's line waits in the handler for at most FLUSH_SECONDS
(app/requestlog.py), so reading it flushes the handler first."""

import io
import logging

import pytest


class LogBuffer(io.StringIO):
    """A buffer for the handler's stream whose getvalue() first writes the lines waiting."""

    def __init__(self, handler):
        super().__init__()
        self.handler = handler

    def getvalue(self):
        self.handler.flush()
        return super().getvalue()


@pytest.fixture
def stdout_log(app):
    """Return a buffer that receives what the app's stdout log handler writes."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "memo", False))
    buffer = LogBuffer(handler)  # reading it writes the request lines waiting first
    original = handler.setStream(buffer)
    yield buffer
    handler.setStream(original)
