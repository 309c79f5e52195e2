"""The entry point: `app`, for the `flask` command and for gunicorn behind the front (front/)."""

import gc
import sys

# Start-up makes about 190,000 objects that live as long as the process, and the collector's
# passes walked them again as they were made (about 0.14 s of a 1 s import, mostly two full
# passes). Paused until they are frozen below; what start-up leaves as garbage (about 2,600
# objects) is frozen with them.
gc.disable()

from app import create_app  # noqa: E402  (after the collector is paused)
from config import ConfigError  # noqa: E402

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")

# What start-up made (the app, the libraries' modules and data) lives as long as the process:
# frozen, the collector's full passes stop walking it again every few thousand allocations.
# The in-process CPU benchmark of then: about -9 % of a page's CPU (docs/performance.md).
gc.freeze()
gc.enable()
