"""Word counts' job: fetch and count a page, away from the web request that asked for it."""

import procrastinate

from app import jobs
from app.wordcount.pages import count_page

blueprint = procrastinate.Blueprint()


@blueprint.task(name="count_web_page", retry=jobs.retrying(max_attempts=3))
def count_web_page(word_count_id):
    """Fetch and count the page of a queued word count."""
    count_page(word_count_id)
