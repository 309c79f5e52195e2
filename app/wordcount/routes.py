"""Count the words of a web page or a note; show the signed-in user's word counts."""

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.fetcher import FetchError, fetch
from app.models import WordCount
from app.notes.routes import get_note
from app.validators import page_number
from app.wordcount import bp
from app.wordcount.counting import count_words, visible_text
from app.wordcount.forms import WordCountForm


def fetch_settings():
    """Return the fetcher's limits from the config; loopback only ever in the test suite."""
    config = current_app.config
    # Production config cannot lift the loopback block: the key counts only under
    # TestingConfig, whatever else sets it.
    testing = current_app.testing and config["ENVIRONMENT"] == "testing"
    return {
        "allow_loopback": testing and config.get("FETCH_ALLOW_LOOPBACK", False),
        "max_bytes": config["FETCH_MAX_BYTES"],
        "deadline": config["FETCH_DEADLINE_SECONDS"],
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
    html = render_template("wordcount/index.html", form=form, page=page)
    return html, 400 if form.is_submitted() else 200


@bp.route("/wordcount", methods=["GET", "POST"])
@login_required
def index():
    """Fetch a web page, count its words and keep the count; list earlier counts."""
    form = WordCountForm()
    if not form.validate_on_submit():
        return render_index(form)
    user_id = current_user.id
    # End the read transaction and give the connection back to the pool for the
    # fetch (up to the deadline): an idle transaction holds back VACUUM and index builds.
    db.session.commit()
    try:
        page = fetch(form.url.data, **fetch_settings())
    except FetchError as error:
        form.url.errors.append(str(error))
        return render_index(form)
    text = page.text if page.media_type == "text/plain" else visible_text(page.text)
    all_words, without_stop_words = count_words(text)
    word_count = WordCount(
        url=form.url.data,
        all_words=all_words,
        without_stop_words=without_stop_words,
        user_id=user_id,
    )
    db.session.add(word_count)
    db.session.commit()
    return redirect(url_for("wordcount.show", word_count_id=word_count.id))


@bp.get("/wordcount/<id:word_count_id>")
@login_required
def show(word_count_id):
    """Show one word count: the top words with and without stop words."""
    word_count = get_word_count(word_count_id)
    return render_template(
        "wordcount/result.html",
        word_count=word_count,
        all_words=word_count.all_words,
        without_stop_words=word_count.without_stop_words,
    )


@bp.get("/notes/<id:note_id>/wordcount")
@login_required
def note(note_id):
    """Count the words of a note's title and content; nothing is fetched or stored."""
    note = get_note(note_id)
    all_words, without_stop_words = count_words(f"{note.title}\n{note.content}")
    return render_template(
        "wordcount/result.html",
        note=note,
        all_words=all_words,
        without_stop_words=without_stop_words,
    )
