"""The entry points: `app` (WSGI) for the `flask` command, `server` (ASGI) for gunicorn."""

import sys

from app import create_app
from app.buffering import BufferedApp
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")

server = BufferedApp(app, app.config["WEB_THREADS"], app.config["MAX_CONTENT_LENGTH"])
