"""Show and revoke share links: `GET /s/<token>`, `POST /shares/<id>/revoke`; the note page's
share panel. A link is made on the note's page, `POST /notes/<id>/share`
(app/features/note_page/shares.py).

The shared page shows the note's title, text and attachments (each through a link signed for
this view, a few minutes long) and the owner's nickname, nothing else of the account. It is
`noindex` and never kept by a shared cache; its Open Graph card names the title only, so a
chat app's preview (KakaoTalk fetches every pasted link) shows no more than that.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests
from wtforms import PasswordField, SelectChoice, SelectField

from app.extensions import db
from app.features.attachments.uploads import download_url
from app.features.grants.ceremony import announce, keep_ceremony
from app.features.shares import links
from app.forms import Form
from app.models import Attachment
from app.validators import PASSWORD_GIVEN, is_same_site_path

bp = Blueprint("shares", __name__)

# The new link is shown once, on the note page it was made on: the session carries it there.
NEW_LINK = "new_share_link"
TOO_MANY_LINKS = _l(
    "You have %(num)s live share links, as many as Memo keeps. Revoke one on My page first."
)
TOO_MANY_VIEWS = _l("This link was opened too often in the last minute. Please try again soon.")


EXPIRY_CHOICES = [
    SelectChoice("1", _l("1 day")),
    SelectChoice("7", _l("7 days")),
    SelectChoice("30", _l("30 days")),
    SelectChoice("", _l("Until I revoke it")),
]
DEFAULT_EXPIRY = "7"


class ShareForm(Form):
    """How long a new link works (the note page writes the same field itself), and the
    password when this session has not confirmed it lately (shares/confirm.html asks)."""

    expires_days = SelectField(_l("Link works for"), choices=EXPIRY_CHOICES)
    password = PasswordField(
        _l("Your password"),
        validators=[PASSWORD_GIVEN],
        render_kw={"autocomplete": "current-password"},
    )


@bp.post("/shares/<id:link_id>/revoke")
@login_required
def revoke(link_id):
    """Revoke a link: it answers 404 from now on."""
    if not links.revoke(current_user.id, link_id):
        abort(404)
    db.session.commit()
    flash(gettext("The link is revoked: it no longer opens the note."), "success")
    target = request.form.get("next", "")
    return redirect(target if is_same_site_path(target) else url_for("mypage.index"))


@bp.post("/shares/<id:link_id>/resume")
@login_required
def resume(link_id):
    """Keep a link a recovery paused: it opens its note again (through the ceremony)."""
    answer = keep_ceremony(current_user, url_for("mypage.index"))
    if answer:
        return answer
    if not links.resume(current_user.id, link_id):
        abort(404)
    announce(current_user, None)
    db.session.commit()
    flash(gettext("The link works again."), "success")
    return redirect(url_for("mypage.index"))


@bp.get("/s/<secret:token>")
def shared(token):
    """Show the shared note, read-only, to anyone with the link."""
    found = links.shared_note(token)
    if found is None:
        abort(404)
    share_link, note = found
    wait = links.count_view(share_link)
    if wait:
        raise TooManyRequests(str(TOO_MANY_VIEWS), retry_after=wait)
    attachments = db.session.scalars(
        select(Attachment)
        .where(Attachment.note_id == note.id, Attachment.state == "confirmed")
        .order_by(Attachment.created_at, Attachment.id)
    ).all()
    seconds = current_app.config["SHARE_DOWNLOAD_SECONDS"]
    files = [(attachment, download_url(attachment, seconds)) for attachment in attachments]
    page = render_template(
        "shares/shared.html", note=note, nickname=note.owner.nickname, files=files
    )
    return (
        page,
        200,
        {
            "Cache-Control": "private, no-store",
            "X-Robots-Tag": "noindex, nofollow",
            "Referrer-Policy": "no-referrer",
        },
    )


def new_link_for(note):
    """Return the link just made for `note` (taken from the session: shown once), or None."""
    made = session.get(NEW_LINK)
    if made and made.get("note_id") == note.id:
        session.pop(NEW_LINK)
        return made["url"]
    return None


def share_panel(note, live=None):
    """Return what the note page's share section shows: the form's choices, a new link, the
    live ones (read here unless given). The form is written by the template (a WTForms form
    costs the page ~10 %)."""
    return {
        "choices": EXPIRY_CHOICES,
        "default": DEFAULT_EXPIRY,
        "new": new_link_for(note),
        "live": links.live_links(note.user_id, note.id) if live is None else live,
    }
