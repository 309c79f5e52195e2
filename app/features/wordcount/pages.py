"""Count a queued web page in a worker: fetch it, count its words, keep the counts or why not."""

from flask import current_app

from app.extensions import db
from app.features.wordcount.sandbox import CountError, count_limited
from app.features.wordcount.settings import fetch_settings
from app.fetcher.client import FetchError, fetch
from app.models import WordCount


def config_cpu_seconds():
    """Return the CPU seconds one count may use (decoding and reading the page's text)."""
    return current_app.config["WORDCOUNT_CPU_SECONDS"]


def count_page(word_count_id):
    """Fetch and count the page of a queued word count; a finished or deleted one is left be."""
    word_count = db.session.get(WordCount, word_count_id)
    if word_count is None or word_count.finished:
        return
    url, word_count.status = word_count.url, "running"
    # Committed before the fetch: the user sees "running", and no transaction (nor pooled
    # connection) stays open for the fetch's up to 10 s.
    db.session.commit()
    try:
        page = fetch(url, **fetch_settings())
    except FetchError as error:
        counts, reason = None, str(error)
    else:
        try:
            counts, reason = count_limited(page, config_cpu_seconds()), None
        except CountError as error:
            counts, reason = None, str(error)
    word_count = db.session.get(WordCount, word_count_id)  # the account may be gone since
    if word_count is None:
        return
    if counts:
        word_count.finish(*counts)
    else:
        word_count.fail(reason)
    db.session.commit()
