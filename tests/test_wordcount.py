"""Word counts: a signed-in user queues a web page (a worker counts it) or counts a note."""

import re
import signal
import threading
import time
from contextlib import suppress

import psutil
import pytest
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.fetcher import FetchError, Page, fetch
from app.models import WordCount
from app.wordcount.counting import TOP_WORDS, count_words, top_words, visible_text, words
from app.wordcount.pages import fetch_settings
from app.wordcount.sandbox import count_limited
from tests.webservers import (
    HTML_HEADERS,
    Reply,
    redirect,
    serve_pages,
    serve_raw,
    trickle_body,
)
from tests.workers import run_queued_jobs, wait_for

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
        server.url = lambda path="/article": f"http://127.0.0.1:{server.port}{path}"
        yield server


def result_id(response):
    """Return the id of the result a submission redirected to."""
    return int(re.fullmatch(r"/wordcount/(\d+)", response.headers["Location"]).group(1))


pytestmark = pytest.mark.usefixtures("no_jobs")


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


@pytest.mark.parametrize("path", ["/wordcount", "/wordcount/1", "/notes/1/wordcount"])
def test_anonymous_visitor_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next={path}"


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


def test_korean_stop_words_are_left_out_even_with_their_particles():
    text = "그리고 우리가 메모를 썼어요. 그리고 우리는 메모를 읽었어요. 그것은 좋은 메모예요."
    all_words, without_stop_words = count_words(text)
    assert ["그리고", 2] in all_words["top"]
    kept = [word for word, _ in without_stop_words["top"]]
    assert "메모를" in kept and "썼어요" in kept
    assert not {"그리고", "우리가", "우리는"} & set(kept)


# --- Refused by the worker: the count fails with the reason ---------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/image", "Memo counts words of web pages and plain text only, not image/png."),
        ("/private", "The page redirected to http://10.0.0.1/admin. Memo only fetches public"),
        ("/gone", "The site answered 404 Not Found."),
    ],
)
def test_a_page_that_cannot_be_counted_fails_with_the_reason(
    app, user, site, count_rows, path, message
):
    site.add_pages({"/image": Reply(b"\x89PNG", "image/png")})
    site.add_pages({"/private": redirect("http://10.0.0.1/admin")})
    response = user.submit("/wordcount", {"url": site.url(path)})
    page = counted(app, user, response)
    status, shown = status_of(page)
    assert status == "failed" and message in shown
    assert "refresh" not in page and 'id="all-words"' not in page
    as_json = user.get(response.headers["Location"], headers={"Accept": "application/json"}).json
    assert as_json["status"] == "failed" and message in as_json["error"]
    assert count_rows("results") == 1


def test_a_failed_count_says_so_gives_the_reason_in_the_history_and_can_be_tried_again(
    app, user, site, count_rows
):
    response = user.submit("/wordcount", {"url": site.url("/gone")})
    page = counted(app, user, response)
    assert "Memo could not count the words of" in page and "Words of" not in page
    history = user.get("/wordcount").get_data(as_text=True)
    assert '<p class="reason">The site answered 404 Not Found.' in history
    assert "Try again" in page
    again = user.post("/wordcount", {"url": site.url("/gone")})
    assert again.status_code == 302 and again.headers["Location"] != response.headers["Location"]
    assert count_rows("results") == 2


def test_a_slow_page_fails_within_the_deadline(app, user, count_rows, monkeypatch):
    monkeypatch.setitem(app.config, "FETCH_DEADLINE_SECONDS", 1.5)
    with serve_raw(trickle_body) as server:
        response = user.submit("/wordcount", {"url": f"http://127.0.0.1:{server.port}/"})
        page = counted(app, user, response)
    assert status_of(page) == (
        "failed",
        "Status: failed. The site took longer than 1.5 seconds; Memo gave up.",
    )


def test_a_page_over_the_size_cap_fails(app, user, site, count_rows, monkeypatch):
    monkeypatch.setitem(app.config, "FETCH_MAX_BYTES", 1024)
    site.add_pages({"/long": Reply(b"word " * 1000)})
    page = counted(app, user, user.submit("/wordcount", {"url": site.url("/long")}))
    message = "The page is larger than 1 KB; Memo stopped reading there."
    assert status_of(page) == ("failed", f"Status: failed. {message}")


@pytest.mark.parametrize("label", ["punycode", "idna", "undefined"])
def test_a_page_declaring_a_charset_no_browser_knows_is_counted(app, user, site, label):
    # Before: punycode decoded for minutes; idna and undefined left the count running.
    site.add_pages({"/odd": Reply(b"<p>pelican pelican fish</p>", f"text/html; charset={label}")})
    page = counted(app, user, user.submit("/wordcount", {"url": site.url("/odd")}))
    assert status_of(page)[0] == "done"
    assert table_rows(page, "all-words") == [("pelican", 2), ("fish", 1)]


def test_a_count_over_its_cpu_budget_fails_for_good(app, user, site, monkeypatch):
    monkeypatch.setitem(app.config, "WORDCOUNT_CPU_SECONDS", 1)
    monkeypatch.setitem(app.config, "FETCH_MAX_BYTES", 16 * 1024 * 1024)
    site.add_pages({"/huge": Reply(b"<p>many words <b>of</b> text</p>" * 400_000)})
    location = user.submit("/wordcount", {"url": site.url("/huge")}).headers["Location"]
    run_queued_jobs(app)
    message = "Counting this page took more than 1 s of work; Memo stopped there."
    assert status_of(user.get(location).get_data(as_text=True)) == (
        "failed",
        f"Status: failed. {message}",
    )
    assert queued_jobs(app) == []  # not retried


def test_a_count_whose_job_was_lost_fails_after_a_while(app, user, site):
    location = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    with app.app_context():
        db.session.execute(text("UPDATE results SET created_at = now() - interval '1 hour'"))
        db.session.commit()
        assert WordCount.fail_abandoned(app.config["ABANDONED_AFTER"]) == 1
        db.session.commit()
    assert status_of(user.get(location).get_data(as_text=True))[0] == "failed"


# --- The loopback block is lifted in the test suite only ----------------------------------


def test_the_test_suite_reaches_loopback(app):
    with app.test_request_context():
        assert fetch_settings()["allow_loopback"] is True


@pytest.mark.parametrize("settings", ["config.ProductionConfig", "config.StagingConfig"])
def test_deployed_configs_cannot_lift_the_loopback_block(monkeypatch, site, settings):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://memo@db.example.com/memo")
    deployed = create_app(settings, {"FETCH_ALLOW_LOOPBACK": True})
    with deployed.test_request_context():
        options = fetch_settings()
    assert options["allow_loopback"] is False
    with pytest.raises(FetchError, match="127.0.0.1 is a loopback address"):
        fetch(site.url(), **options)
    assert site.requests == []


def test_development_cannot_lift_the_loopback_block(monkeypatch, site):
    monkeypatch.setenv("DATABASE_URL", "postgres://memo@localhost/memo")
    development = create_app("config.DevelopmentConfig", {"FETCH_ALLOW_LOOPBACK": True})
    with development.test_request_context():
        assert fetch_settings()["allow_loopback"] is False


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


# --- Counting -----------------------------------------------------------------------------


def test_visible_text_leaves_out_what_a_reader_does_not_see():
    html = (
        "<head><title>T</title><style>p{}</style></head>"
        "<body><p>Hello <b>W</b>orld</p><script>if (a < b) {}</script><div>a&amp;b</div>"
        "<noscript>N</noscript><template>X</template><iframe>F</iframe><p>end</body>"
    )
    assert visible_text(html).split() == ["Hello", "World", "a&b", "end"]


def test_markup_is_read_as_a_browser_reads_it():
    html = (
        "<!doctype html><p>1 &lt; 2 and 3 < 4</p>"
        '<img alt="a > b">after<textarea>typed <b>text</b></textarea>'
        "<script>x = '</scr' + 'ipt>'</script>shown<!-- hidden -->"
    )
    assert visible_text(html).split() == [
        "1", "<", "2", "and", "3", "<", "4", "after", "typed", "<b>text</b>", "shown",
    ]  # fmt: skip


def test_a_page_ending_inside_a_tag_or_comment_ends_there():
    assert visible_text("kept <a href='never closed").split() == ["kept"]
    assert visible_text("kept <!-- never closed").split() == ["kept"]


@pytest.mark.parametrize(
    "html",
    ["<a" * 1_000_000, "<" * 2_000_000, "<p>a</p>" * 250_000, '<a "' * 500_000],
    ids=["open-tags", "angles", "tags", "quotes"],
)
def test_hostile_markup_takes_linear_time(html):
    # Python 3.11's html.parser needs minutes for the first of these.
    started = time.monotonic()
    count_words(visible_text(html))
    assert time.monotonic() - started < 5


def test_a_missing_head_end_tag_still_ends_the_head():
    assert visible_text("<head><title>T</title><p>body text").split() == ["body", "text"]


def test_block_tags_separate_words():
    assert words(visible_text("<li>one</li><li>two</li>one<br>two")) == [
        "one",
        "two",
        "one",
        "two",
    ]


def test_words_are_case_folded_and_unicode_aware():
    assert words("Straße STRASSE Café café CAFE\u0301 ﬁsh Ａｂｃ") == [
        "strasse",
        "strasse",
        "café",
        "café",
        "café",
        "fish",
        "abc",
    ]
    assert words("हिन्दी भाषा, Ελληνικά; русский-язык") == [
        "हिन्दी",
        "भाषा",
        "ελληνικά",
        "русский",
        "язык",
    ]


def test_apostrophes_inside_words_stay_and_quotes_go():
    assert words("Don’t say 'hello', o'clock users' rock 'n' roll") == [
        "don't",
        "say",
        "hello",
        "o'clock",
        "users",
        "rock",
        "n",
        "roll",
    ]


def test_numbers_identifiers_and_long_runs_are_not_words():
    assert words("2024 10,000 3d snake_case " + "x" * 41) == ["3d", "snake", "case"]


def test_stop_words_are_left_out_of_the_second_count():
    all_words, without_stop_words = count_words("The cat and the hat. Don’t stop!")
    assert all_words["top"][0] == ["the", 2]
    assert without_stop_words == {
        "total": 3,
        "distinct": 3,
        "top": [["cat", 1], ["hat", 1], ["stop", 1]],
    }


def test_a_count_keeps_the_top_words_only_ties_alphabetical():
    found = [f"w{number:03d}" for number in range(300)] + ["zebra"] * 3
    counted = top_words(found)
    assert counted["total"] == 303 and counted["distinct"] == 301
    assert len(counted["top"]) == TOP_WORDS
    assert counted["top"][:3] == [["zebra", 3], ["w000", 1], ["w001", 1]]


def test_no_transaction_stays_open_while_the_worker_fetches_a_page(app, user, postgres):
    seen = []

    def answer(sock, stop):
        # The job is fetching this very page now: is any of its connections mid-transaction?
        connection = postgres.connect()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'memo' AND state LIKE 'idle in transaction%'"
            )
            seen.append(cursor.fetchone()[0])
        connection.close()
        sock.sendall(HTML_HEADERS + b"Content-Length: 11\r\n\r\nhello world")

    with serve_raw(answer) as server:
        response = user.submit("/wordcount", {"url": f"http://127.0.0.1:{server.port}/"})
        page = counted(app, user, response)
    assert seen == [0]
    assert status_of(page)[0] == "done"


def test_a_count_goes_on_when_the_platform_stops_the_worker_dyno(app):
    # The platform sends SIGTERM to every process of the dyno, the counting child too; the
    # worker waits for its running jobs, so the count must finish (before: "took more than
    # 10 s of work", failed for good).
    page = Page(
        "https://example.com/",
        "text/html",
        b"<p>many words <b>of</b> text</p>" * 150_000,
        "text/html; charset=utf-8",
    )
    outcome = []
    counting = threading.Thread(target=lambda: outcome.append(count_limited(page, 10)))
    counting.start()
    me = psutil.Process()
    wait_for(
        lambda: len([p for p in me.children(recursive=True) if p.ppid() != me.pid]) > 0,
        timeout=10,
        message="the counting child started",
    )
    time.sleep(0.3)  # under way
    for child in me.children(recursive=True):
        with suppress(psutil.Error):
            child.send_signal(signal.SIGTERM)  # the fork server and the counting child
    counting.join(timeout=60)
    [(every_word, _)] = outcome
    assert every_word["total"] == 4 * 150_000
