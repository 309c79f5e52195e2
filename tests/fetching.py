"""Fetching in tests as the test suite's app does: loopback reachable, limits as in production."""

from app.fetcher.client import fetch
from config import Config

LIMITS = {"max_bytes": Config.FETCH_MAX_BYTES, "deadline": Config.FETCH_DEADLINE_SECONDS}


def fetch_local(url, **options):
    """Fetch as the test suite's app does: loopback reachable, everything else as in production."""
    return fetch(url, allow_loopback=True, **{**LIMITS, **options})
