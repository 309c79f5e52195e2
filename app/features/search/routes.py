"""The search page."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.features.search.forms import SearchForm
from app.features.search.query import (
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    SEARCHED_CHARACTERS,
    SearchRefused,
    search_notes,
    split_tags,
)
from app.validators import page_number

bp = Blueprint("search", __name__)


def page_asked_for(args):
    """Return the page asked for (1 when none), or abort 404 for one that cannot exist."""
    page = page_number(args.get("page", "1"))
    if page is None or page > MAX_PAGE:
        abort(404, gettext("That page of results does not exist."))
    return page


@bp.app_context_processor
def search_box():
    """Give every page's search box its length limit."""
    return {"search_max_length": MAX_QUERY_LENGTH}


def render_search(form, results=None, per_page=None):
    """Render the search page: the box, and the results when there are some to show."""
    return render_template(
        "search/index.html",
        form=form,
        results=results,
        per_page=per_page,
        searched_characters=SEARCHED_CHARACTERS,
    )


@bp.get("/search")
@login_required
def search():
    """Find the user's notes that match `q`, best first, a page at a time."""
    form = SearchForm(request.args)
    if not form.validate():
        return render_search(form), 400
    if not form.q.data:
        return render_search(form)
    page = page_asked_for(request.args)
    per_page = current_app.config["SEARCH_RESULTS_PER_PAGE"]
    try:
        words, tags = split_tags(form.q.data)
        if tags and not words and not form.archived.data:
            return redirect(url_for("notes.index", tag=tags))  # the list shows a tag's notes
        results = search_notes(
            current_user.id, words, page, per_page, tags, with_archived=form.archived.data
        )
    except SearchRefused as refused:
        form.q.errors = [str(refused)]
        return render_search(form), 400
    if page > 1 and not results.items:
        abort(404, gettext("That page of results does not exist."))
    return render_search(form, results, per_page)
