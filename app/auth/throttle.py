"""Password guessing and signups throttled in PostgreSQL, so every worker and dyno shares the count.

Each password check is counted against the email it is for and the client it comes from
before it runs. Past LOGIN_FAILURES_PER_EMAIL (or LOGIN_FAILURES_PER_CLIENT) within
LOGIN_THROTTLE_WINDOW, the check is refused with 429 without looking at the password. A
check that succeeds forgets the email's failures and gives the client its attempt back.

Each signup is counted against its client and against all signups, before the email is
looked at: past SIGNUPS_PER_CLIENT (or SIGNUPS_IN_TOTAL) within SIGNUP_THROTTLE_WINDOW it
is refused with 429, so nobody can create accounts, or probe addresses, by the thousand.
"""

import ipaddress
import math

from flask import current_app, request
from sqlalchemy import case, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from werkzeug.exceptions import TooManyRequests

from app.extensions import db
from app.models import LoginThrottle, comparison_key, utcnow

PRUNE_BATCH = 100  # ended windows deleted per attempt: far more than an attempt adds
TOO_MANY_PASSWORDS = (
    "Too many failed password attempts. For your account's safety, try again in {wait}."
)
TOO_MANY_SIGNUPS = "Too many sign-ups from here just now. Please try again in {wait}."


def email_subject(email):
    """Return the throttle's name for an email: the same in any case or form, like logins."""
    return comparison_key(email.strip())


def client_subject(address):
    """Return the throttle's name for a client address; IPv6 by /64, which one host may roam."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def subjects(email):
    """Return (scope, subject) of the email and of this request's client, in locking order."""
    return [("email", email_subject(email)), ("client", client_subject(request.remote_addr))]


def count_attempt(scope, subject, window):
    """Add one attempt to a subject's window (a new window once the old one ended).

    Return the attempts in the window and when it started. One atomic upsert, so two
    workers counting at once both see the other's attempt.
    """
    window_open = LoginThrottle.window_started_at > func.now() - window
    statement = (
        insert(LoginThrottle)
        .values(scope=scope, subject=subject, failures=1, window_started_at=func.now())
        .on_conflict_do_update(
            index_elements=[LoginThrottle.scope, LoginThrottle.subject],
            set_={
                "failures": case((window_open, LoginThrottle.failures + 1), else_=1),
                "window_started_at": case(
                    (window_open, LoginThrottle.window_started_at), else_=func.now()
                ),
            },
        )
        .returning(LoginThrottle.failures, LoginThrottle.window_started_at)
    )
    return db.session.execute(statement).one()


def prune(window, scopes):
    """Delete a batch of `scopes`' rows whose window ended, skipping rows others hold."""
    ended = (
        select(LoginThrottle.scope, LoginThrottle.subject)
        .where(
            LoginThrottle.scope.in_(scopes),
            LoginThrottle.window_started_at <= func.now() - window,
        )
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        delete(LoginThrottle).where(tuple_(LoginThrottle.scope, LoginThrottle.subject).in_(ended))
    )


def delete_ended_windows(window):
    """Delete every row whose window has ended (prune() takes a batch per attempt)."""
    db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_started_at <= func.now() - window)
    )


def refusal(window_ends, message):
    """Return the 429 to answer until the last of `window_ends`."""
    seconds = max(1, math.ceil((max(window_ends) - utcnow()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return TooManyRequests(message.format(wait=wait), retry_after=seconds)


def spend(counted, window, message):
    """Count one attempt for each (scope, subject, limit) in `counted`; 429 past a limit."""
    window_ends = []
    for scope, subject, limit in counted:
        failures, started = count_attempt(scope, subject, window)
        if failures > limit:
            window_ends.append(started + window)
    prune(window, [scope for scope, _, _ in counted])
    # Committed now: the count must stand whatever the rest of the request does.
    db.session.commit()
    if window_ends:
        raise refusal(window_ends, message)


def spend_attempt(email):
    """Count a password check of `email` before it runs; abort with 429 when over a limit."""
    config = current_app.config
    limits = [config["LOGIN_FAILURES_PER_EMAIL"], config["LOGIN_FAILURES_PER_CLIENT"]]
    counted = [(*subject, limit) for subject, limit in zip(subjects(email), limits, strict=True)]
    spend(counted, config["LOGIN_THROTTLE_WINDOW"], TOO_MANY_PASSWORDS)


def spend_signup():
    """Count a signup before the email is looked at; abort with 429 when over a limit."""
    config = current_app.config
    counted = [
        ("signup", "all", config["SIGNUPS_IN_TOTAL"]),
        ("signup-client", client_subject(request.remote_addr), config["SIGNUPS_PER_CLIENT"]),
    ]
    spend(counted, config["SIGNUP_THROTTLE_WINDOW"], TOO_MANY_SIGNUPS)


def forgive(email):
    """Record that a password check of `email` succeeded: the guesses were not a guesser's."""
    (_, email_key), (_, client_key) = subjects(email)
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == "email", LoginThrottle.subject == email_key
        )
    )
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.scope == "client", LoginThrottle.subject == client_key)
        .values(failures=func.greatest(LoginThrottle.failures - 1, 0))
    )
    # Committed now: a form that fails on another field commits nothing after this.
    db.session.commit()
