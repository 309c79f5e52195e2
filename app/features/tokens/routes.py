"""The page of personal access tokens: `/mypage/tokens` lists them, makes one (shown once),
and revokes one. Every route acts on the signed-in account's own tokens.

A token is made through the grants' ceremony (app/features/grants/ceremony.py), with the
account's password entered on the form (throttled like a sign-in): made before a recovery
(and revoked by it) or not at all. Every address with standing is told, with a "this was
not me" link (docs/mail.md). Revoking one pauses the webhooks it made.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.accounts.tasks import defer_notices
from app.extensions import db
from app.features.grants.ceremony import open_ceremony
from app.features.second_step.session import recent_step_needed
from app.features.tokens import service
from app.features.tokens.forms import TokenForm

bp = Blueprint("tokens", __name__, url_prefix="/mypage/tokens")
# The answer that shows a secret is kept by no cache, and by no browser's history.
NOT_KEPT = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def render_page(form, status=200, refusal=None):
    """Render the list of tokens with the form that makes one."""
    tokens = service.tokens_of(current_user.id)
    focus = next((field.id for field in form if field.errors), None)
    page = render_template(
        "tokens/index.html", form=form, tokens=tokens, refusal=refusal, focus=focus
    )
    return page, status


@bp.get("")
@login_required
def index():
    """List the account's tokens: name, access, expiry, last use."""
    return render_page(TokenForm(formdata=None))


@bp.post("")
@login_required
def make():
    """Make a token and show its secret, this once (after a recent second step, if on)."""
    asked = recent_step_needed(current_user, url_for("tokens.index"))
    if asked:
        return asked
    form = TokenForm()
    if not form.validate_on_submit():
        return render_page(form, 400)
    # The ceremony locks after the form's checks, which commit the password throttle's count.
    answer, maker = open_ceremony(current_user, url_for("tokens.index"))
    if answer:
        return answer
    try:
        token, secret = service.make_token(
            current_user, form.name.data, form.scope.data, form.days, maker
        )
    except service.TokenRefused as refused:
        db.session.rollback()
        if refused.status == 429:
            raise  # made too many lately: the error page, with Retry-After (app/errors.py)
        return render_page(form, 400, refusal=str(refused))
    defer_notices("token_made", current_user, token_id=token.id)
    db.session.commit()
    page = render_template("tokens/made.html", token=token, secret=secret)
    return page, 200, NOT_KEPT


@bp.post("/<id:token_id>/revoke")
@login_required
def revoke(token_id):
    """Revoke one of the account's tokens: it authenticates nothing from now on."""
    if not service.revoke(current_user.id, token_id):
        abort(404)
    db.session.commit()
    flash(gettext("The token is revoked: it no longer opens your account."), "success")
    return redirect(url_for("tokens.index"))
