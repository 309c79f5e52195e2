"""Searching in tests: notes put straight in the table, and what a results page shows."""

import re
from html import unescape

from sqlalchemy import text

from app.extensions import db
from tests.note_writers import set_up_directly


def add_notes(app, email, notes):
    """Give a user notes straight in the table, as (title, content) pairs, oldest first."""
    with app.app_context(), set_up_directly(), db.engine.begin() as connection:  # in bulk
        for number, (title, content) in enumerate(notes):
            connection.execute(
                text(
                    "INSERT INTO note (title, content, created_at, updated_at, user_id)"
                    " SELECT :title, :content, now() - (:age * interval '1 minute'), now(), id"
                    ' FROM "user" WHERE email = :email'
                ),
                {"title": title, "content": content, "age": len(notes) - number, "email": email},
            )


def hits(browser, query, **params):
    """Search and return the titles found, best first, as plain text."""
    response = browser.get("/search", query_string={"q": query, **params})
    assert response.status_code == 200
    return titles(response.get_data(as_text=True))


# The elements a list of hits is made of: any other in it would be markup a note brought in.
HIT_ELEMENTS = {"ol", "li", "div", "a", "mark", "p", "span", "time"}


def hit_list(page):
    """Return a search page's list of hits as HTML ("" when it has none)."""
    listed = re.search(r'<ol class="notes hits".*?</ol>', page, re.DOTALL)
    return listed.group(0) if listed else ""


def elements_in(html):
    """Return the names of the elements in `html`."""
    return set(re.findall(r"<(\w+)", html))


def titles(page):
    """Return the result titles on a search page, their markup removed, best first."""
    links = re.findall(r'<a href="/notes/\d+">(.*?)</a>', hit_list(page), re.DOTALL)
    return [unescape(re.sub(r"</?mark>", "", link)) for link in links]


def no_results_message(page):
    match = re.search(r'<p class="empty" id="no-results">(.*?)</p>', page, re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))) if match else None
