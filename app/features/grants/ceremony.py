"""The one ceremony every grant is made through (docs/mail.md, "The one rule").

A signed-in session makes a grant only with the password, entered in this request (throttled
as a sign-in) or confirmed in this login session within GRANT_RECENT (the sign-in counts),
and after a recent second step where the account has one; then the account's row is locked
and the session found still alive, so a grant asked for while a recovery takes the account
back is either made before it (and paused by it) or not at all. An API token makes one as
itself: its proofs are those it was made with. Every address with standing is then told,
with a "this was not me" link (announce()).
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, request, session
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from app import throttle
from app.accounts.sessions import (
    lock_signed_in_account,
    mark_password_proven,
    password_proven_at,
)
from app.accounts.tasks import defer_notices
from app.extensions import db
from app.features.second_step.session import recent_step_needed, second_step_passed_at
from app.forms import Form
from app.models import LoginSession, utcnow
from app.validators import PASSWORD_GIVEN

PASSWORD_NEEDED = _l(
    "For your account's safety, enter your password: it was not confirmed in this session "
    "in the last 10 minutes."
)
WRONG_PASSWORD = _l("That is not your current password.")


class PasswordNeeded(Exception):
    """The grant is not made: the password was not confirmed recently (or is wrong)."""

    def __init__(self, message):
        super().__init__(str(message))


@dataclass(frozen=True)
class Maker:
    """Who makes a grant, and the proofs it had passed at that moment."""

    session_id: int | None
    token_id: int | None
    password_at: datetime | None
    second_step_at: datetime | None

    def columns(self, model):
        """Return the columns of its maker for a grant of `model` (and made_with_second_step
        where it has one, which the release before 0037 reads: from this maker's own step,
        never the account's)."""
        columns = {
            "made_by_session": self.session_id,
            "made_by_token": self.token_id,
            "password_proven_at": self.password_at,
            "second_step_proven_at": self.second_step_at,
        }
        if hasattr(model, "made_with_second_step"):
            columns["made_with_second_step"] = self.second_step_at is not None
        return columns


def session_maker(user, password_at=None):
    """Return the Maker of `user`'s signed-in session as it stands now (`password_at`: the
    password was entered in this request, then)."""
    password_at = password_at or password_proven_at()
    if password_at is not None and password_at < utcnow() - current_app.config["GRANT_RECENT"]:
        password_at = None
    session_id = LoginSession.id_of(user.session_token)
    return Maker(session_id, None, password_at, second_step_passed_at(session))


def token_maker(token):
    """Return the Maker of a grant an API token makes: the token, with its own proofs."""
    return Maker(None, token.id, token.password_proven_at, token.second_step_proven_at)


def check_password(user, password):
    """Check a password entered in this request, throttled as a sign-in; raise
    PasswordNeeded for a wrong one. A stolen session is no way around the login throttle."""
    throttle.spend_attempt(user.email)
    if not user.check_password(password):
        raise PasswordNeeded(WRONG_PASSWORD)
    throttle.forgive(user.email)
    mark_password_proven()


def open_ceremony(user, back_to, password=None):
    """Run the ceremony for a grant `user`'s session makes; return (answer, maker).

    `answer`, when not None, is to be returned at once: the person is sent for a recent
    second step (then back to `back_to`), or the session ended meanwhile. Otherwise the
    account is locked and `maker` is who makes the grant. Raises PasswordNeeded: nothing
    may be made (roll back; a 400 with its message). The caller makes the grant, announces
    it and commits.
    """
    asked = recent_step_needed(user, back_to)
    if asked:
        return asked, None
    if password:
        check_password(user, password)
    maker = session_maker(user, utcnow() if password else None)
    if maker.password_at is None:
        raise PasswordNeeded(PASSWORD_NEEDED)
    ended = lock_signed_in_account()  # after the throttle's commit
    if ended:
        return ended, None
    return None, maker


def announce(user, what, name=None):
    """Tell every address with standing that grant `what` (share_link, feed, webhook) was
    made, naming it (`name`: a note's title, a feed's tag, a webhook's address), with a
    "this was not me" link; sent only if the caller's transaction commits."""
    defer_notices("grant_made", user, what=what, name=name, at=utcnow().isoformat())


class KeepForm(Form):
    """The password a keep of a paused grant asks for when not confirmed lately."""

    password = PasswordField(
        _l("Your password"),
        validators=[PASSWORD_GIVEN],
        render_kw={"autocomplete": "current-password"},
    )


def keep_ceremony(user, back_to):
    """Run the ceremony for keeping a paused grant: keeping one opens it again, as making it
    would, so a copied session is no way to undo a pause (a token's revocation leaves the
    sessions). Return None (the account locked; the caller keeps it, announces, commits),
    or the answer to return: a 400 page asking for the password, or a second step first."""
    form = KeepForm()
    try:
        if not form.validate_on_submit():
            raise PasswordNeeded(WRONG_PASSWORD)
        answer, _ = open_ceremony(user, back_to, form.password.data)
    except PasswordNeeded as needed:
        db.session.rollback()
        page = render_template(
            "grants/confirm_keep.html",
            form=form,
            message=str(needed),
            back_to=back_to,
            action=request.path,
            next_page=request.form.get("next", ""),
        )
        return page, 400
    return answer
