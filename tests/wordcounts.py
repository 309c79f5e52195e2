"""Word counts in tests: a site with an article (the `site` fixture) and reading a count's page."""

import re

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.webservers import (
    Reply,
    serve_pages,
)
from tests.workers import run_queued_jobs

ARTICLE = b"""<!doctype html>
<html lang="en">
<head>
  <title>Headline words stay out</title>
  <meta name="description" content="metadata stays out">
  <style>body { font-family: serif; }</style>
  <script>var tracking = "scripts stay out";</script>
</head>
<body>
  <h1>Pelicans</h1>
  <p>The pelican is a bird. The pelican eats fish, and the fish fear the pelican.</p>
  <noscript>Enable JavaScript please</noscript>
  <template><p>template content stays out</p></template>
  <!-- a comment stays out -->
</body>
</html>"""


@pytest.fixture
def site():
    """A web server on 127.0.0.1 with an article; add pages with `site.add_pages`."""
    with serve_pages({"/article": Reply(ARTICLE)}) as server:
        yield server


def result_id(response):
    """Return the id of the result a submission redirected to."""
    return int(re.fullmatch(r"/wordcount/(\d+)", response.headers["Location"]).group(1))


def status_of(page):
    """Return the status a word count page shows, and its message."""
    match = re.search(r'<p id="status" class="\w+" data-status="(\w+)">([^<]*)</p>', page)
    return match.group(1), match.group(2).strip()


def queued_jobs(app):
    """Return the task names of the word-count jobs in the queue (signing up queues a mail)."""
    with app.app_context():
        return db.session.scalars(
            text("SELECT task_name FROM procrastinate_jobs WHERE task_name = 'count_web_page'")
        ).all()


def counted(app, user, response):
    """Let a worker (in this process) run the queued jobs; return the count's page as HTML."""
    assert response.status_code == 302
    run_queued_jobs(app)
    return user.get(response.headers["Location"]).get_data(as_text=True)


def table_rows(page, section_id):
    """Return the (word, count) rows of one count's table on a result page."""
    section = page.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]
    cells = re.findall(r'<td class="word">([^<]*)</td>\s*<td>(\d+)</td>', section)
    return [(word, int(count)) for word, count in cells]
