"""The second step of signing in, as a browser's session carries it (docs/security/two-step.md).

After the right password, an account with an authenticator app is not signed in: its session
holds a short-lived pending sign-in (the account, when, remember-me, where to go next),
bound to the password it was made with, until a code passes at /auth/two-step. A code that
passes in a signed-in session is remembered for TWO_STEP_RECENT, bound to that login session:
what needs a recent second step (turning the app off, new recovery codes, an API token)
asks `recent_second_step(session)`, or sends the person through /auth/two-step and back
with `ask_for_recent_second_step()`.
"""

import time
from datetime import UTC, datetime

from flask import current_app, flash, redirect, session, url_for
from flask_babel import gettext
from flask_login import current_user

from app.extensions import db
from app.models import Passkey, TotpCredential, User, account_stamp, hash_token, utcnow

PENDING = "two_step_pending"
PASSED = "two_step_passed"


def second_step_on(user):
    """Return whether `user` signs in with a second step (an authenticator app, a passkey)."""
    return TotpCredential.of(user.id) is not None or Passkey.count_of(user.id) > 0


def ask_for_code(session, user, remember, target):
    """Keep a pending sign-in of `user` in `session` and send the browser for its code."""
    session.pop(PASSED, None)
    session[PENDING] = {
        "user": user.id,
        "at": int(time.time()),
        "remember": bool(remember),
        "next": target,
        "stamp": account_stamp(user)[:32],  # a new password (a reset) voids it
    }
    return redirect(url_for("two_step.check"))


def pending_sign_in(session):
    """Return (the account, its pending sign-in) kept in `session`, or (None, None) when it
    has none, it is older than TWO_STEP_PENDING, or the account's password changed since."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None, None
    age = time.time() - pending.get("at", 0)
    user = db.session.get(User, pending.get("user", 0))
    lifetime = current_app.config["TWO_STEP_PENDING"].total_seconds()
    if user is None or not 0 <= age <= lifetime or pending.get("stamp") != account_stamp(user)[:32]:
        session.pop(PENDING, None)
        return None, None
    return user, pending


def login_session_mark():
    """Return a digest naming this login session (not its token)."""
    return hash_token(f"two-step\n{current_user.session_token or ''}")[:32]


def mark_passed(session, chain_started_at):
    """Remember that a second step passed just now in this (signed-in) session, and the chain
    of proofs it belongs to (its chain_start()): what this session adds belongs to it."""
    session.pop(PENDING, None)
    session[PASSED] = {
        "session": login_session_mark(),
        "at": int(time.time()),
        "chain": chain_started_at.timestamp(),
    }


def passed_chain(session):
    """Return the chain of the second step this login session passed last, or None."""
    passed = session.get(PASSED)
    if not isinstance(passed, dict) or passed.get("session") != login_session_mark():
        return None
    chain = passed.get("chain")
    if not isinstance(chain, int | float) or isinstance(chain, bool):
        return None  # passed before the chains were recorded: read as none
    return datetime.fromtimestamp(chain, UTC)


def chain_for_new_second_step(user):
    """Return the chain of proofs a second step `user` adds now belongs to (revision 0035).

    The first second step asks for the password alone: its chain begins now. Any other is
    added after a recent second step (recent_step_needed), through that one: its chain. A
    session that passed its second step before the chains were recorded has none to give,
    and what it adds is read as made with the password alone.
    """
    if not second_step_on(user):
        return utcnow()
    return passed_chain(session) or utcnow()


def recent_second_step(session):
    """Return whether a code passed in this login session within TWO_STEP_RECENT.

    The hook for whatever needs a recent second step (new recovery codes, turning the app
    off, making an API token); a session restored from a remember-me cookie, or copied to
    another browser after the window, has none.
    """
    return second_step_passed_at(session) is not None


def second_step_passed_at(session):
    """Return when a second step passed in this login session, if within TWO_STEP_RECENT;
    else None (what a grant records of its maker: app/features/grants/)."""
    passed = session.get(PASSED)
    if not isinstance(passed, dict) or not current_user.is_authenticated:
        return None
    at = passed.get("at", 0)
    age = time.time() - at
    recent = current_app.config["TWO_STEP_RECENT"].total_seconds()
    if passed.get("session") != login_session_mark() or not 0 <= age <= recent:
        return None
    return datetime.fromtimestamp(at, UTC)


def ask_for_recent_second_step(back_to):
    """Send the signed-in person through /auth/two-step, then back to `back_to`."""
    flash(
        gettext(
            "For your account's safety, confirm that it is you first: with a code, or a passkey."
        ),
        "info",
    )
    return redirect(url_for("two_step.check", next=back_to))


def recent_step_needed(user, back_to):
    """Return the answer that sends `user` for a code first, or None: no app, or a code
    passed in this session within TWO_STEP_RECENT. For what would let someone holding only
    a session keep the account (an API token, a move of its address)."""
    if not second_step_on(user) or recent_second_step(session):
        return None
    return ask_for_recent_second_step(back_to)
