"""The WSGI entry point for gunicorn, and the app the `flask` command finds."""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")
