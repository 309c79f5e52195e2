"""Making a share link on the note's page: the page then shows the new link, once."""

from flask import abort, current_app, flash, redirect, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.features.notes.lookup import get_note
from app.features.second_step.session import second_step_on
from app.features.shares import links
from app.features.shares.routes import NEW_LINK, TOO_MANY_LINKS, ShareForm, bp
from app.mail import link
from app.throttle import spend_note_write


@bp.post("/notes/<id:note_id>/share")
@login_required
def share(note_id):
    """Make a link to one note; the note page then shows it, once."""
    note = get_note(note_id)
    form = ShareForm()
    if not form.validate_on_submit():
        abort(400, gettext("Choose how long the link works: 1, 7 or 30 days, or until revoked."))
    spend_note_write(current_user.id)
    try:
        days = int(form.expires_days.data or 0) or None
        token = links.make_link(note, days, made_with_second_step=second_step_on(current_user))
    except links.TooManyLinks:
        flash(str(TOO_MANY_LINKS % {"num": current_app.config["SHARES_PER_USER"]}), "error")
        return redirect(url_for("notes.detail", note_id=note.id))
    db.session.commit()
    session[NEW_LINK] = {"note_id": note.id, "url": link("shares.shared", token=token)}
    return redirect(url_for("notes.detail", note_id=note.id))
