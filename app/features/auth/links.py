"""Mailed links as the auth pages spend them: looked up under the account's lock, refused with
a page that says why, and the moves of address they make (docs/mail.md)."""

from flask import flash, render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app import objects, throttle
from app.accounts import ways_in
from app.accounts.tasks import defer_notices
from app.extensions import db
from app.features.second_step.session import second_step_on
from app.i18n.formats import local_time_writer
from app.models import AddressHold, MailToken, User, lock_user, utcnow

# Why a mailed link did not work, and where to ask for another.
LINK_PROBLEMS = {
    "unknown": _l(
        "This link is not valid or no longer works: check that it was copied whole, or ask "
        "for a new one."
    ),
    "used": _l("This link was used already: each link works once."),
    "expired": _l("This link has expired."),
    "void": _l("This link no longer works: the account changed since it was sent."),
    "taken": _l("That address belongs to another account now, so this account keeps its own."),
    "changed": _l(
        "This link no longer works: the account's two-step sign-in or its passkeys changed "
        "since it was sent. Ask again if you still want it."
    ),
    "outranked": _l(
        "This link no longer works: the account was secured from an address that ranks above "
        "this one."
    ),
}
# A reset or an undo ends a standing request to turn the second step off (docs/mail.md).
DROP_REQUEST_ENDED = _l(
    "The request to turn two-step sign-in off is cancelled. If it was yours, ask again from "
    "the code page: the wait starts again."
)
# Longer than any token Memo makes; such a "token" is not looked up at all.
TOKEN_MAX_LENGTH = 100


def link_problem(problem, ask_again):
    """Render the page for a mailed link that does not work, with where to ask for another."""
    page = render_template("auth/link_problem.html", problem=LINK_PROBLEMS[problem], **ask_again)
    return page, 400


def redeemable(token, purposes, form, ask_again):
    """Return (the working token's row, None), or (None, the page that says why it does not).

    Once the form is submitted, the account's row is locked, then the token's: every act on
    an account's links waits for the one before it (confirm against remove, two undo links),
    and then finds the link used, deleted or outranked.
    """
    row, problem = look_up(token, purposes, lock=form.is_submitted())
    if problem:
        db.session.rollback()
        return None, link_problem(problem, ask_again)
    return row, None


def look_up(token, purposes, lock=False):
    """Return (the token's row, None) for a working token of one of `purposes`, else a reason.

    With `lock`, the account's row is locked first, then the token's, and both are read again.
    """
    if len(token) > TOKEN_MAX_LENGTH:
        return None, "unknown"
    if not lock:
        return MailToken.look_up(token, purposes)
    row, _ = MailToken.look_up(token, purposes)
    if row is None:
        return None, "unknown"
    lock_user(row.user_id)
    db.session.expire_all()  # what was read before the lock is read again
    return MailToken.look_up(token, purposes, lock=True)


def take_back(user, row, new_password):
    """Recover the account from the address the link `row` was mailed to (a reset or a "this
    was not me" link), with `new_password`; return (the addresses that lost their standing,
    what the recovery ended).

    The one place both recoveries share (docs/mail.md, "The one rule"): the password changes
    (which voids every bound link), the address is confirmed (the link reached it: it is the
    holder's, whoever made the account with it), the link is spent, what the address
    outranks is deleted, and the registry of the ways in (app/accounts/ways_in.py) ends every one
    the owner's proofs did not make.
    """
    user.set_password(new_password)
    user.email_verified_at = user.email_verified_at or utcnow()
    row.spend()
    recovery = ways_in.recover(user, row)
    throttle.clear_failures(user.email)
    return recovery.dropped, recovery.ended


def say_what_ended(ended):
    """Flash what a recovery ended beyond the sessions, as its mail lists it too."""
    if ended.drop_request:
        flash(DROP_REQUEST_ENDED, "info")
    if ended.paused_links:
        flash(gettext("Your share links are paused: keep or revoke each on My page."), "info")


def who_may_undo(user):
    """Return what a moved account's new holder is told: which addresses may undo the move,
    and until when (docs/mail.md, "Who may undo what")."""
    write = local_time_writer()
    higher = AddressHold.standing(user)[: AddressHold.rank_of(user, user.email)]
    if not higher:
        return gettext("No other address can undo this move.")
    until = max(left_at for _, _, left_at in higher) + AddressHold.undo_window()
    addresses = ", ".join(email for email, _, _ in higher)
    return gettext(
        "Until %(until)s, the link mailed to %(addresses)s can undo this move and take the "
        "account back there.",
        until=write(until),
        addresses=addresses,
    )


def move_to(user, new_email):
    """Move `user` to `new_email` unless another account has it; tell every address with
    standing (the one just left among them)."""
    if User.email_taken(new_email):
        return False
    old_email, old_verified = user.email, user.email_verified
    user.email = new_email  # which voids every other link of the account (account_stamp)
    try:
        db.session.flush()
    except IntegrityError:  # another account took it since we looked
        return False
    # The move needed every proof the account holds now (docs/mail.md, "Proofs").
    with_second_step = second_step_on(user)
    AddressHold.leave(user, old_email, old_verified, new_email, with_second_step)
    defer_notices("email_changed", user, actor=new_email)
    return True


def move_back(user, row):
    """Give `user` back the address `row` was sent to; False if another account has it.

    An unconfirmed account made with that address meanwhile gives way: the undo link proves
    the address is this account's holder's, and whoever made the other account never read
    its mail (docs/mail.md, rule 4).
    """
    squatter = User.find_by_email(row.email)
    if squatter is not None and squatter.id != user.id and not squatter.email_verified:
        objects.delete_later(prefixes=objects.user_prefixes(squatter.id))
        db.session.delete(squatter)
        db.session.flush()
    if User.email_taken(row.email):
        return False
    old_email, old_verified = user.email, user.email_verified
    user.email = row.email
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # another account took it since we looked
        return False
    AddressHold.leave(user, old_email, old_verified, row.email)
    return True
