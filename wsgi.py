"""The entry point: `app`, for the `flask` command and for gunicorn behind nginx (front.py)."""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")
