"""Word counts' job: fetch and count a page, away from the web request that asked for it."""

from app import jobs

blueprint = jobs.Blueprint()


@blueprint.task(name="count_web_page", retry=jobs.retrying(max_attempts=3))
def count_web_page(word_count_id):
    """Fetch and count the page of a queued word count."""
    # Imported by the worker's first count: the web, which registers this task to defer it,
    # never loads the fetcher or selectolax (tests/test_layout.py).
    from app.features.wordcount.pages import (  # the worker's: the web never loads the fetcher
        count_page,
    )

    count_page(word_count_id)
