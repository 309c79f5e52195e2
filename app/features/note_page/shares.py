"""Making a share link on the note's page, through the grants' ceremony: the note page then
shows the new link, once. Without the password confirmed in the last 10 minutes, a page asks
for it (400, nothing made)."""

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.features.grants.ceremony import PasswordNeeded, announce, open_ceremony
from app.features.notes.lookup import get_note
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
    back_to = url_for("notes.detail", note_id=note.id)
    try:
        answer, maker = open_ceremony(current_user, back_to, form.password.data)
    except PasswordNeeded as needed:
        db.session.rollback()
        page = render_template("shares/confirm.html", note=note, form=form, message=str(needed))
        return page, 400
    if answer:
        return answer
    spend_note_write(current_user.id)
    quiet = links.made_lately(current_user.id, maker, current_app.config["GRANT_NOTICE_EVERY"])
    try:
        days = int(form.expires_days.data or 0) or None
        token = links.make_link(note, days, maker)
    except links.TooManyLinks:
        db.session.rollback()
        flash(str(TOO_MANY_LINKS % {"num": current_app.config["SHARES_PER_USER"]}), "error")
        return redirect(back_to)
    if not quiet:
        announce(current_user, "share_link", note.title)
    db.session.commit()
    session[NEW_LINK] = {"note_id": note.id, "url": link("shares.shared", token=token)}
    return redirect(back_to)
