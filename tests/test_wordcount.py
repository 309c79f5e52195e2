"""Word counts: a signed-in user queues a web page (a worker counts it) or counts a note."""

import re
import threading

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import WordCount
from tests.webservers import (
    Reply,
)
from tests.wordcounts import queued_jobs, result_id, status_of, table_rows
from tests.workers import run_queued_jobs, wait_for

# --- The pages ---------------------------------------------------------------------------


def test_count_a_page_then_find_it_again(app, user, site, count_rows, workers):
    response = user.submit("/wordcount", {"url": site.url()})
    assert response.status_code == 302
    location = response.headers["Location"]
    queued = user.get(location).get_data(as_text=True)
    assert status_of(queued)[0] == "queued"
    assert '<meta http-equiv="refresh" content="2">' in queued  # refreshes itself, no script
    assert site.requests == []  # nothing fetched by the web process

    workers.start()  # a real `flask worker` process
    wait_for(
        lambda: user.get(location, headers={"Accept": "application/json"}).json["status"] == "done",
        message="the count done",
    )
    page = user.get(location).get_data(as_text=True)
    assert status_of(page)[0] == "done" and "refresh" not in page
    without_stop_words = table_rows(page, "without-stop-words")
    assert without_stop_words[:3] == [("pelican", 3), ("fish", 2), ("bird", 1)]
    assert ("the", 4) in table_rows(page, "all-words")
    assert ("the", 4) not in without_stop_words
    for hidden in ("headline", "metadata", "scripts", "javascript", "template", "comment"):
        assert hidden not in dict(table_rows(page, "all-words"))
    assert "16 words, 10 different" in page
    assert count_rows("results") == 1

    listing = user.get("/wordcount").get_data(as_text=True)
    assert site.url() in listing and f'href="{location}"' in listing


def test_a_count_answers_json_when_asked(app, user, site):
    location = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    number = int(location.rsplit("/", 1)[1])
    queued = user.get(location, headers={"Accept": "application/json"})
    assert queued.content_type == "application/json"
    assert {key: queued.json[key] for key in ("id", "url", "status", "error")} == {
        "id": number,
        "url": site.url(),
        "status": "queued",
        "error": None,
    }
    run_queued_jobs(app)
    done = user.get(location, headers={"Accept": "application/json"}).json
    assert done["status"] == "done" and done["result_no_stop_words"]["top"][0] == ["pelican", 3]


def test_the_same_address_while_unfinished_is_the_same_count(app, user, site, count_rows):
    first = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    second = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    assert first == second
    assert count_rows("results") == 1 and queued_jobs(app) == ["count_web_page"]
    run_queued_jobs(app)
    third = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    assert third != first  # a finished count is not reused: the page may have changed


def test_a_few_unfinished_counts_at_most_then_429_with_retry_after(app, user, site, count_rows):
    limit = app.config["WORD_COUNTS_UNFINISHED_PER_USER"]
    for number in range(limit):
        assert user.submit("/wordcount", {"url": site.url(f"/{number}")}).status_code == 302
    response = user.submit("/wordcount", {"url": site.url("/one-more")})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(app.config["UNFINISHED_RETRY_AFTER_SECONDS"])
    assert f"You already have {limit} word counts waiting" in response.get_data(as_text=True)
    assert count_rows("results") == limit and len(queued_jobs(app)) == limit
    run_queued_jobs(app)
    assert user.submit("/wordcount", {"url": site.url("/one-more")}).status_code == 302


def test_the_unfinished_limit_holds_for_submissions_at_once(app, user, site, count_rows):
    user.get("/wordcount")
    statuses = []

    def submit(number):
        statuses.append(user.post("/wordcount", {"url": site.url(f"/{number}")}).status_code)

    threads = [threading.Thread(target=submit, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    limit = app.config["WORD_COUNTS_UNFINISHED_PER_USER"]
    assert sorted(statuses) == [302] * limit + [429] * (8 - limit)
    assert count_rows("results") == limit


def test_results_are_listed_newest_first(user, site):
    site.add_pages({"/first": Reply(b"one"), "/second": Reply(b"two")})
    user.submit("/wordcount", {"url": site.url("/first")})
    user.submit("/wordcount", {"url": site.url("/second")})
    listing = user.get("/wordcount").get_data(as_text=True)
    assert listing.index(site.url("/second")) < listing.index(site.url("/first"))


def test_another_users_result_is_404(user, other_user, site):
    location = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    assert other_user.get(location).status_code == 404
    as_json = other_user.get(location, headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.json["status"] == 404
    assert site.url() not in as_json.get_data(as_text=True)
    assert site.url() not in other_user.get("/wordcount").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/wordcount/999", "/wordcount/0", "/wordcount/abc"])
def test_a_missing_result_is_404(user, path):
    assert user.get(path).status_code == 404


def test_a_submission_without_csrf_token_is_400(app, user, site, count_rows):
    response = user.post("/wordcount", {"url": site.url()}, csrf=False)
    assert response.status_code == 400
    assert site.requests == []
    assert count_rows("results") == 0 and queued_jobs(app) == []


def test_nav_links_to_word_count(user):
    assert 'href="/wordcount">Word count</a>' in user.get("/").get_data(as_text=True)


# --- Refused at once: a field error at 400, nothing stored, no job ------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the address of a web page."),
        ("ftp://example.com/", "Only http:// and https:// addresses can be fetched."),
        ("javascript:alert(1)", "Only http:// and https:// addresses can be fetched."),
        ("http://user:pw@example.com/", "Addresses with a user name or password are not fetched."),
        ("http://exa mple.com/", "The address contains spaces"),
        ("http://" + "a" * 2050 + ".com/", "The address must be at most 2,048 characters."),
        ("http://10.0.0.1/", "Memo only fetches public web pages: 10.0.0.1 is a private address."),
        (
            "http://169.254.169.254/latest/meta-data/",
            "Memo only fetches public web pages: 169.254.169.254 is a link-local address.",
        ),
        ("http://[::ffff:10.0.0.1]/", "is an IPv6 address that carries an IPv4 address."),
    ],
)
def test_a_refused_address_is_a_field_error(app, user, count_rows, url, message):
    response = user.submit("/wordcount", {"url": url})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(f'<p class="error"[^>]*>[^<]*{re.escape(message)}', page)
    assert 'aria-invalid="true"' in page
    assert count_rows("results") == 0 and queued_jobs(app) == []


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("example.com", "https://example.com"), ("네이버.com/a?b=1", "https://네이버.com/a?b=1")],
)
def test_an_address_typed_without_a_scheme_is_fetched_over_https(app, user, typed, kept):
    response = user.submit("/wordcount", {"url": typed})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(WordCount.url)).all() == [kept]


# --- A note's own words -------------------------------------------------------------------


def test_count_the_words_of_a_note_without_storing_it(user, count_rows):
    location = user.create_note("Pelican notes", "The pelican eats fish. Pelicans!").headers[
        "Location"
    ]
    detail = user.get(location).get_data(as_text=True)
    assert f'href="{location}/wordcount">Word count</a>' in detail
    page = user.get(f"{location}/wordcount").get_data(as_text=True)
    assert table_rows(page, "without-stop-words") == [
        ("pelican", 2),
        ("eats", 1),
        ("fish", 1),
        ("notes", 1),
        ("pelicans", 1),
    ]
    assert ("the", 1) in table_rows(page, "all-words")
    assert "not stored" in page
    assert count_rows("results") == 0


def test_another_users_note_has_no_word_count(user, other_user):
    location = user.create_note().headers["Location"]
    assert other_user.get(f"{location}/wordcount").status_code == 404


# --- Export and account deletion ----------------------------------------------------------


def test_a_result_exports_as_plain_data(app, user, site):
    number = result_id(user.submit("/wordcount", {"url": site.url()}))
    run_queued_jobs(app)
    with app.app_context():
        exported = db.session.get(WordCount, number).export()
    assert exported["id"] == number
    assert exported["url"] == site.url()
    assert exported["result_no_stop_words"]["top"][0] == ["pelican", 3]
    assert exported["result_all"]["total"] == 16
    assert exported["created_at"].endswith("+00:00")
    assert (exported["status"], exported["error"]) == ("done", None)


def test_deleting_the_account_deletes_its_results(app, user, other_user, site, count_rows):
    user.submit("/wordcount", {"url": site.url()})
    other_user.submit("/wordcount", {"url": site.url()})
    with app.app_context():
        db.session.execute(text("""DELETE FROM "user" WHERE nickname = 'ann'"""))
        db.session.commit()
        owners = db.session.scalars(select(WordCount.user_id)).all()
    assert count_rows("results") == 1 and len(owners) == 1
