"""Benchmark (not a test): do sign-up and forgot-password answer as fast for a known address
as for an unknown one? `.venv/bin/python bench/mail_timing.py [--runs 200]`.

For each form, N requests with an address that has an account and N with one that has none,
interleaved (known, unknown, known, ...) after a warm-up, each timed from the POST to its
answer, in-process through the app (Flask's test client, TestingConfig) on a real embedded
PostgreSQL. The throttles are raised so that every request does the full work. Target: the
medians differ by less than 10 ms. On a shared machine the load drifts during a run, so the
median of the paired differences (each known request against the unknown one beside it)
is printed too: it is what the load moves least. Both paths do the same work by
construction (a password hash, one lookup, one queued job: see docs/mail.md); this measures
what is left. Prints a Markdown table; exits 1 when a target is missed.
"""

import argparse
import os
import statistics
import sys
import time

from flask_migrate import upgrade

from app import create_app, migrating
from bench.release_phase import machine
from devenv.liveserver import LOCAL_MAIL_SETTINGS
from devenv.services import ensure_database, throwaway_postgres
from devenv.visitors import PASSWORD, Browser

TARGET_MS = 10
KNOWN = "known@example.com"
UNLIMITED = {"RESETS_PER_EMAIL": 10**9, "RESETS_PER_CLIENT": 10**9}


def memo_app(url):
    """Return Memo under TestingConfig on `url`, migrated, with throttles out of the way."""
    os.environ.update(LOCAL_MAIL_SETTINGS, TEST_DATABASE_URL=url, LOG_LEVEL="WARNING")
    os.environ.update(SIGNUPS_PER_CLIENT=str(10**9), SIGNUPS_IN_TOTAL=str(10**9))
    app = create_app("config.TestingConfig", UNLIMITED)
    migrating.init_app(app)
    with app.app_context():
        upgrade()
    return app


def timed_post(browser, path, form):
    """POST `form` and return the milliseconds until the answer; it must be the redirect."""
    started = time.perf_counter()
    response = browser.post(path, form)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 302, response.status_code
    return elapsed


def signup_form(email, number):
    fields = {"email": email, "nickname": f"n{number}", "password": PASSWORD}
    return {**fields, "password_confirm": PASSWORD}


def measure(app, runs, warmup):
    """Return {form: {"known": [ms], "unknown": [ms]}} over `runs` requests of each."""
    browser = Browser(app.test_client())
    browser.get("/auth/signup")
    timed_post(browser, "/auth/signup", signup_form(KNOWN, 0))
    times = {
        "sign-up": {"known": [], "unknown": []},
        "forgot password": {"known": [], "unknown": []},
    }
    for number in range(1, warmup + runs + 1):
        samples = {
            "sign-up": {
                "known": timed_post(browser, "/auth/signup", signup_form(KNOWN, f"k{number}")),
                "unknown": timed_post(
                    browser, "/auth/signup", signup_form(f"new{number}@example.com", number)
                ),
            },
            "forgot password": {
                "known": timed_post(browser, "/auth/reset", {"email": KNOWN}),
                "unknown": timed_post(browser, "/auth/reset", {"email": f"no{number}@example.com"}),
            },
        }
        if number > warmup:
            for form, pair in samples.items():
                for kind, elapsed in pair.items():
                    times[form][kind].append(elapsed)
    return times


def report(times, runs):
    """Print the table; return whether every form met the target."""
    print(f"\n{runs} requests each, interleaved. {machine()}\n")
    print(
        "| form | known: median / p90 (ms) | unknown: median / p90 (ms) | difference of medians"
        " | median paired difference |"
    )
    print("|---|---|---|---|---|")
    met = True
    for form, pair in times.items():
        cells, medians = [], []
        for kind in ("known", "unknown"):
            values = sorted(pair[kind])
            medians.append(statistics.median(values))
            cells.append(f"{medians[-1]:.1f} / {values[int(len(values) * 0.9)]:.1f}")
        difference = abs(medians[0] - medians[1])
        pairs = zip(pair["known"], pair["unknown"], strict=True)
        paired = statistics.median(known - unknown for known, unknown in pairs)
        met &= difference < TARGET_MS
        verdict = "OK" if difference < TARGET_MS else "MISSED"
        print(
            f"| {form} | {cells[0]} | {cells[1]} | {difference:.1f} ms ({verdict})"
            f" | {paired:+.1f} ms |"
        )
    return met


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    options = parser.parse_args()
    server, _ = throwaway_postgres("memo-bench-mail-")
    try:
        ensure_database(server.get_uri(), "mail")
        times = measure(memo_app(server.get_uri("mail")), options.runs, options.warmup)
    finally:
        server.cleanup()
    return 0 if report(times, options.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
