"""Count the words of a web page (a worker fetches it) or a note; show the user's word counts."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from app import jobs
from app.errors import wants_json
from app.extensions import db
from app.features.notes.lookup import get_note
from app.features.wordcount.counting import count_words
from app.features.wordcount.forms import WordCountForm
from app.features.wordcount.tasks import count_web_page
from app.forms import page_status
from app.i18n.stored import translated_text
from app.markdown import plain_text
from app.models import TooManyUnfinished, WordCount
from app.validators import page_number

bp = Blueprint("wordcount", __name__)

# A word count's status as its list shows it.
STATUS_NAMES = {
    "queued": _l("Waiting"),
    "running": _l("Counting"),
    "done": _l("Done"),
    "failed": _l("Failed"),
}


def get_word_count(word_count_id):
    """Return the signed-in user's word count, or 404 (someone else's is as good as missing)."""
    return db.first_or_404(select(WordCount).filter_by(id=word_count_id, user_id=current_user.id))


def render_index(form):
    """Render the form and the user's past word counts: 400 after a refused submission."""
    query = (
        select(WordCount)
        .where(WordCount.user_id == current_user.id)
        .order_by(WordCount.created_at.desc(), WordCount.id.desc())
    )
    page = db.paginate(
        query,
        page=page_number(request.args.get("page", "1")) or abort(404),
        per_page=current_app.config["RESULTS_PER_PAGE"],
        max_per_page=None,
    )
    html = render_template("wordcount/index.html", form=form, page=page, status_names=STATUS_NAMES)
    return html, page_status(form)


def too_many_unfinished():
    """Return the 429 for a user whose word counts are all still in the queue."""
    limit = current_app.config["WORD_COUNTS_UNFINISHED_PER_USER"]
    return TooManyRequests(
        ngettext(
            "You already have %(num)d word count waiting to finish. Try again when it is done, "
            "in a minute or so.",
            "You already have %(num)d word counts waiting to finish. Try again when one is "
            "done, in a minute or so.",
            limit,
        ),
        retry_after=current_app.config["UNFINISHED_RETRY_AFTER_SECONDS"],
    )


@bp.route("/wordcount", methods=["GET", "POST"])
@login_required
def index():
    """Queue a word count of a web page and show it; list earlier counts."""
    form = WordCountForm()
    if not form.validate_on_submit():
        return render_index(form)
    limit = current_app.config["WORD_COUNTS_UNFINISHED_PER_USER"]
    try:
        word_count, new = WordCount.queue(current_user.id, form.url.data, limit)
    except TooManyUnfinished:
        db.session.rollback()
        raise too_many_unfinished() from None
    if new:
        jobs.defer_for_user(current_user.id, count_web_page, word_count_id=word_count.id)
    db.session.commit()
    return redirect(url_for("wordcount.show", word_count_id=word_count.id))


@bp.get("/wordcount/<id:word_count_id>")
@login_required
def show(word_count_id):
    """Show one word count: its progress, then the top words with and without stop words."""
    word_count = get_word_count(word_count_id)
    if wants_json():
        # The reason, like the page's, in the reader's language.
        return jsonify({**word_count.export(), "error": translated_text(word_count.error)})
    return render_template(
        "wordcount/result.html",
        word_count=word_count,
        all_words=word_count.all_words,
        without_stop_words=word_count.without_stop_words,
        retry_form=WordCountForm(formdata=None),
    )


@bp.get("/notes/<id:note_id>/wordcount")
@login_required
def note(note_id):
    """Count the words of a note's title and content (its plain text, not its Markdown);
    nothing is fetched or stored."""
    note = get_note(note_id)
    all_words, without_stop_words = count_words(f"{note.title}\n{plain_text(note.content)}")
    return render_template(
        "wordcount/result.html",
        note=note,
        all_words=all_words,
        without_stop_words=without_stop_words,
    )
