"""Password guessing and signups throttled in PostgreSQL, so every worker and dyno shares the count.

Each password check is counted against the email it is for and the client it comes from
before it runs. Past LOGIN_FAILURES_PER_EMAIL (or LOGIN_FAILURES_PER_CLIENT) within
LOGIN_THROTTLE_WINDOW, the check is refused with 429 without looking at the password. A
check that succeeds forgets the email's failures and gives the client its attempt back.

An IPv6 client is counted by its /64 (one host may roam it) and by its /48 (what one site is
given: 65,536 /64s), the latter against LOGIN_FAILURES_PER_NETWORK. All password checks
together are counted too: past SIGNINS_IN_TOTAL unfinished or failed checks within
TOTALS_WINDOW (an hour), every sign-in waits, so guessing spread over countless addresses
has a ceiling.

Each signup is counted against its client, its IPv6 /48 and all signups, before the email
is looked at: past SIGNUPS_PER_CLIENT (SIGNUPS_PER_NETWORK, SIGNUPS_IN_TOTAL) within
SIGNUP_THROTTLE_WINDOW it is refused with 429, so nobody can create accounts, or probe
addresses, by the thousand.

Mail is throttled the same way, per MAIL_THROTTLE_WINDOW: password resets per address
(RESETS_PER_EMAIL, whether or not it has an account) and per client (RESETS_PER_CLIENT),
and the mail one account asks for (MAILS_PER_ACCOUNT: links again, email changes). Mail
that anyone's action sends to an address (a sign-up with it, a move to it) is counted
against that address from every account together (MAILS_PER_RECIPIENT); past it the mail
is dropped, and the answer stays the same, so it says nothing about the address.

A sign-in with a passkey alone has no address to be counted against: it is counted against
its client, its IPv6 /48 and all sign-ins, as a password check is, and given back when it
succeeds.

Each code of the second step of signing in is counted against its account, in a table of
its own (two_step_throttle): past TWO_STEP_FAILURES_PER_WINDOW within TWO_STEP_THROTTLE_WINDOW,
or TWO_STEP_FAILURES_PER_DAY within a day, it is refused with 429 before it is checked.

Each note a user writes (a new one, or an edit) from the pages is counted against that user:
past NOTE_WRITES_PER_MINUTE within a minute it is refused with 429. One written through the API
is counted apart, against its token (TOKEN_WRITES_PER_MINUTE) and all of the account's tokens
together (API_WRITES_PER_MINUTE): a sync pushing a folder never spends the person's saves, and
no number of tokens raises the account's ceiling.
"""

import ipaddress
import math
from datetime import timedelta
from functools import partial

from flask import current_app, g, request
from sqlalchemy import case, delete, event, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from werkzeug.exceptions import TooManyRequests

from app.extensions import ReconnectingSession, db
from app.models import LoginThrottle, TwoStepThrottle, comparison_key, utcnow
from app.throttle_messages import (  # the 429s' words
    too_many_codes,
    too_many_failed_signins,
    too_many_mails,
    too_many_passwords,
    too_many_previews,
    too_many_resets,
    too_many_signins,
    too_many_signups,
    too_many_token_writes,
    too_many_writes,
)

FLUSHED = "flushed since the transaction began"  # in session.info: the caller wrote
PRUNE_BATCH = 100  # ended windows deleted per attempt: far more than an attempt adds


TOTALS_WINDOW = timedelta(hours=1)
WRITES_WINDOW = timedelta(minutes=1)


def email_subject(email):
    """Return the throttle's name for an email: the same in any case or form, like logins."""
    return comparison_key(email.strip())


def client_subject(address, prefix=64):
    """Return the throttle's name for a client address; IPv6 by its /`prefix` network."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    return str(ip)


def network_subject(address):
    """Return the /48 an IPv6 client is in, or None for an IPv4 (or unknown) client."""
    subject = client_subject(address, prefix=48)
    return subject if subject.endswith("/48") else None


def count_attempt(scope, subject, window, table=LoginThrottle):
    """Add one attempt to a subject's window (a new window once the old one ended).

    Return the attempts in the window and when it started. One atomic upsert, so two
    workers counting at once both see the other's attempt.
    """
    window_open = table.window_started_at > func.now() - window
    statement = (
        insert(table)
        .values(scope=scope, subject=subject, failures=1, window_started_at=func.now())
        .on_conflict_do_update(
            index_elements=[table.scope, table.subject],
            set_={
                "failures": case((window_open, table.failures + 1), else_=1),
                "window_started_at": case((window_open, table.window_started_at), else_=func.now()),
            },
        )
        .returning(table.failures, table.window_started_at)
    )
    return db.session.execute(statement).one()


def prune(window, scopes, table=LoginThrottle):
    """Delete a batch of `scopes`' rows whose window ended, skipping rows others hold.

    The batch is a MATERIALIZED CTE, taken once: as a plain `IN (subquery)` a nested-loop
    plan runs the subquery again for every row it scans, and each run skips the rows this
    same statement already deleted and locks the next ones, so the whole table went.
    """
    ended = (
        select(table.scope, table.subject)
        .where(table.scope.in_(scopes), table.window_started_at <= func.now() - window)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
        .cte("ended")
        .prefix_with("MATERIALIZED")
    )
    batch = select(ended.c.scope, ended.c.subject)
    ended_rows = delete(table).where(tuple_(table.scope, table.subject).in_(batch))
    db.session.execute(ended_rows)


def delete_ended_windows(window, table=LoginThrottle):
    """Delete every row whose window has ended (prune() takes a batch per attempt)."""
    db.session.execute(delete(table).where(table.window_started_at <= func.now() - window))


def refusal(window_ends, message):
    """Return the 429 to answer until the last of `window_ends`; `message(minutes)` says so."""
    seconds = max(1, math.ceil((max(window_ends) - utcnow()).total_seconds()))
    return TooManyRequests(message(math.ceil(seconds / 60)), retry_after=seconds)


def spend(counted, window, message, table=LoginThrottle, with_the_write=False):
    """Count one attempt for each (scope, subject, limit) in `counted`; 429 past a limit.

    The rows are counted in one order, by scope and subject, so that two counts at once
    never deadlock. An attempt (a password, a sign-up, a mail asked for) is committed at once,
    before anything of the caller's is written: the count stands whatever the request does
    next. A write's count (`with_the_write`) is committed with the write it counts, by the
    caller, or goes with it: a write that fails wrote nothing and spent nothing, and the
    caller's session is never committed here.
    """
    if not with_the_write:
        nothing_of_the_callers()
    counts = {
        (scope, subject): count_attempt(scope, subject, window, table)
        for scope, subject, _ in sorted(counted)
    }
    prune(window, [scope for scope, _, _ in counted], table)
    if not with_the_write:
        db.session.commit()
    window_ends = []
    spent = g.setdefault("spent", {})  # what the API tells in its RateLimit-* headers
    for scope, subject, limit in counted:
        failures, started = counts[scope, subject]
        told = spent.get(scope)  # of two limits of a scope, the one with less left
        if told is None or limit - failures < told[0] - told[1]:
            spent[scope] = (limit, failures, started + window)
        if failures > limit:
            window_ends.append(started + window)
    if window_ends:
        raise refusal(window_ends, message)


def nothing_of_the_callers():
    """Raise unless the session holds nothing the caller wrote: an attempt's count commits,
    and must commit only itself."""
    session = db.session
    if session.new or session.dirty or session.deleted or session.info.get(FLUSHED):
        raise RuntimeError("an attempt's count would commit the caller's writes: count first")


@event.listens_for(ReconnectingSession, "after_flush")
def remember_flushed(session, _context):
    session.info[FLUSHED] = True


@event.listens_for(ReconnectingSession, "after_transaction_end")
def forget_flushed(session, transaction):
    if transaction.parent is None:  # the session's own transaction, not a savepoint
        session.info.pop(FLUSHED, None)


def client_limits():
    """Return (scope, subject, limit) of this request's client, and of its IPv6 /48."""
    config = current_app.config
    counted = [("client", client_subject(request.remote_addr), config["LOGIN_FAILURES_PER_CLIENT"])]
    network = network_subject(request.remote_addr)
    if network:
        counted.append(("client", network, config["LOGIN_FAILURES_PER_NETWORK"]))
    return counted


def spend_attempt(email):
    """Count a password check of `email` before it runs; abort with 429 when over a limit."""
    config = current_app.config
    email_limit = ("email", email_subject(email), config["LOGIN_FAILURES_PER_EMAIL"])
    spend([email_limit, *client_limits()], config["LOGIN_THROTTLE_WINDOW"], too_many_passwords)
    spend([("login", "all", config["SIGNINS_IN_TOTAL"])], TOTALS_WINDOW, too_many_signins)


def spend_passkey_attempt():
    """Count a sign-in with a passkey alone before it is checked, as a password's is counted
    but with no address to count it against: its client's, its /48's and everyone's."""
    config = current_app.config
    spend(client_limits(), config["LOGIN_THROTTLE_WINDOW"], too_many_failed_signins)
    spend([("login", "all", config["SIGNINS_IN_TOTAL"])], TOTALS_WINDOW, too_many_signins)


def writing_with_token(token_id, name):
    """Count this request's note writes as token `token_id`'s (named `name`), not the pages'."""
    g.writing_token = (token_id, name)


def spend_note_write(user_id):
    """Count a note the user is about to save; abort with 429 past NOTE_WRITES_PER_MINUTE, or,
    through a token, past TOKEN_WRITES_PER_MINUTE or API_WRITES_PER_MINUTE."""
    config = current_app.config
    token = g.get("writing_token")
    if token is None:
        counted = [("note-writes", str(user_id), config["NOTE_WRITES_PER_MINUTE"])]
        message = too_many_writes
    else:
        token_id, name = token
        # Subjects of their own in the scope of note writes, as previews': no scope to migrate.
        counted = [
            ("note-writes", f"token-{token_id}", config["TOKEN_WRITES_PER_MINUTE"]),
            ("note-writes", f"tokens-{user_id}", config["API_WRITES_PER_MINUTE"]),
        ]
        message = partial(too_many_token_writes, name)
    spend(counted, WRITES_WINDOW, message, with_the_write=True)


def spend_preview(user_id):
    """Count an editor's preview (Markdown rendered for no save); 429 past
    NOTE_PREVIEWS_PER_MINUTE. Counted in the note writes' table, under a subject of its own."""
    limit = current_app.config["NOTE_PREVIEWS_PER_MINUTE"]
    spend([("note-writes", f"preview-{user_id}", limit)], WRITES_WINDOW, too_many_previews)


def spend_signup():
    """Count a signup before the email is looked at; abort with 429 when over a limit."""
    config = current_app.config
    counted = [
        ("signup", "all", config["SIGNUPS_IN_TOTAL"]),
        ("signup-client", client_subject(request.remote_addr), config["SIGNUPS_PER_CLIENT"]),
    ]
    network = network_subject(request.remote_addr)
    if network:  # the scope of clients, with a /48 for subject: no new scope to migrate
        counted.append(("signup-client", network, config["SIGNUPS_PER_NETWORK"]))
    spend(counted, config["SIGNUP_THROTTLE_WINDOW"], too_many_signups)


def spend_reset(email):
    """Count a reset asked for `email` before it is looked up; 429 when over a limit."""
    config = current_app.config
    counted = [
        ("reset-email", email_subject(email), config["RESETS_PER_EMAIL"]),
        ("reset-client", client_subject(request.remote_addr), config["RESETS_PER_CLIENT"]),
    ]
    spend(counted, config["MAIL_THROTTLE_WINDOW"], too_many_resets)


def spend_account_mail(user_id):
    """Count a mail the signed-in account `user_id` asks for; 429 when over the limit."""
    config = current_app.config
    counted = [("mail-account", str(user_id), config["MAILS_PER_ACCOUNT"])]
    spend(counted, config["MAIL_THROTTLE_WINDOW"], too_many_mails)


def mail_recipient_has_room(email):
    """Count one mail sent to `email` on someone's behalf; return whether it is within
    MAILS_PER_RECIPIENT for the window. Nothing is refused: the caller drops the mail."""
    config = current_app.config
    subject = email_subject(email)
    failures, _ = count_attempt("mail-recipient", subject, config["MAIL_THROTTLE_WINDOW"])
    return failures <= config["MAILS_PER_RECIPIENT"]


def spend_second_step(user_id):
    """Count a code of the second step for account `user_id` before it is checked; 429 past
    TWO_STEP_FAILURES_PER_WINDOW within the window, or TWO_STEP_FAILURES_PER_DAY in a day.
    The count is the account's, whichever browser or process the codes come from."""
    config = current_app.config
    windows = (
        ("two-step", "TWO_STEP_FAILURES_PER_WINDOW", "TWO_STEP_THROTTLE_WINDOW"),
        ("two-step-day", "TWO_STEP_FAILURES_PER_DAY", "TWO_STEP_DAY"),
    )
    for scope, limit, window in windows:
        counted = [(scope, str(user_id), config[limit])]
        spend(counted, config[window], too_many_codes, TwoStepThrottle)


def second_steps_left():
    """Return how many more codes this request's count allows before the 429, by the
    tightest of the windows spend_second_step counted."""
    spent = g.get("spent", {})
    return min(
        (limit - failures for scope, (limit, failures, _) in spent.items() if "two-step" in scope),
        default=None,
    )


def give_back_second_step(user_id):
    """Give back the attempt of a code that passed: only wrong codes stay counted, so a
    guesser who knows the password gains nothing from the owner's sign-ins."""
    for scope in ("two-step", "two-step-day"):
        db.session.execute(
            update(TwoStepThrottle)
            .where(TwoStepThrottle.scope == scope, TwoStepThrottle.subject == str(user_id))
            .values(failures=func.greatest(TwoStepThrottle.failures - 1, 0))
        )


def longest_window(config):
    """Return the longest throttle window: a row older than it has ended, whatever its scope."""
    names = ("LOGIN_THROTTLE_WINDOW", "SIGNUP_THROTTLE_WINDOW", "MAIL_THROTTLE_WINDOW")
    return max(config[name] for name in names)


def clear_failures(email):
    """Forget the failed password checks of `email` (its password was just reset)."""
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == "email", LoginThrottle.subject == email_subject(email)
        )
    )


def forgive(email):
    """Record that a password check of `email` succeeded: the guesses were not a guesser's."""
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == "email", LoginThrottle.subject == email_subject(email)
        )
    )
    give_back_sign_in()


def give_back_sign_in():
    """Give this request's client, its /48 and the total their counted sign-in back: it
    succeeded."""
    given_back = [(scope, subject) for scope, subject, _ in client_limits()] + [("login", "all")]
    # One row at a time, in the order spend_attempt() counts them (email, client, network,
    # then the total): one UPDATE of several rows locks them in whatever order its scan
    # meets them, and two sign-ins at once deadlocked (tests/test_load.py: 4 503s of 100).
    for scope, subject in given_back:
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == scope, LoginThrottle.subject == subject)
            .values(failures=func.greatest(LoginThrottle.failures - 1, 0))
        )
    # Committed now: a form that fails on another field commits nothing after this.
    db.session.commit()
