"""The fetcher's limits, read from the config by the form (the web) and the job (the worker)."""

from flask import current_app


def fetch_settings():
    """Return the fetcher's limits from the config; loopback only ever in the test suite."""
    config = current_app.config
    # Production config cannot lift the loopback block: the key counts only under
    # TestingConfig, whatever else sets it.
    testing = current_app.testing and config["ENVIRONMENT"] == "testing"
    return {
        "allow_loopback": testing and config.get("FETCH_ALLOW_LOOPBACK", False),
        "max_bytes": config["FETCH_MAX_BYTES"],
        "deadline": config["FETCH_DEADLINE_SECONDS"],
    }
