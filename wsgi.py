"""The entry point: `app`, for the `flask` command and for gunicorn behind the front (front/)."""

import gc
import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")

# What start-up made (the app, the libraries' modules and data) lives as long as the process:
# frozen, the collector's full passes stop walking it again every few thousand allocations.
# The in-process CPU benchmark of then: about -9 % of a page's CPU (docs/performance.md).
gc.freeze()
