"""The language switcher: a visitor's choice is a cookie, a user's is saved with the account,
and told to every address of it (a feature module, as it defers a notice; its blueprint keeps
the name `i18n`)."""

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from app.accounts.tasks import tell_reading_changed
from app.extensions import db
from app.features.mypage.forms import UNKNOWN_LANGUAGE, LanguageForm
from app.i18n.choice import LANGUAGE_COOKIE, LANGUAGE_COOKIE_SECONDS
from app.validators import is_same_site_path

bp = Blueprint("i18n", __name__)


def remember_language(response, language):
    """Set the cookie that keeps a visitor's language (and a user's, once signed out)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_SECONDS,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.post("/language")
def choose():
    """Switch the language of every page; go back to the page the switch was on."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400, str(UNKNOWN_LANGUAGE))
    if current_user.is_authenticated:
        old_language = current_user.language
        current_user.language = form.language.data
        tell_reading_changed(current_user, old_language, current_user.time_zone)
        db.session.commit()
    back = request.form.get("next", "")
    target = back if is_same_site_path(back) else url_for("notes.index")
    return remember_language(redirect(target), form.language.data)
