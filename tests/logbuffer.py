"""What the app's stdout log handler writes, read as a person would read stdout: a request's
line waits in the handler for at most FLUSH_SECONDS (app/requestlog.py), so reading it flushes
the handler first."""

import io


class LogBuffer(io.StringIO):
    """A buffer for the handler's stream whose getvalue() first writes the lines waiting."""

    def __init__(self, handler):
        super().__init__()
        self.handler = handler

    def getvalue(self):
        self.handler.flush()
        return super().getvalue()
